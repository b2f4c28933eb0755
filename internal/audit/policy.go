package audit

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/apis/audit/validation"
	apiaudit "k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Levels, lowest first, as the API server names them.
const (
	LevelNone            = string(auditinternal.LevelNone)
	LevelMetadata        = string(auditinternal.LevelMetadata)
	LevelRequest         = string(auditinternal.LevelRequest)
	LevelRequestResponse = string(auditinternal.LevelRequestResponse)
)

// Stages, in the order the API server emits them.
const (
	StageRequestReceived  = string(auditinternal.StageRequestReceived)
	StageResponseStarted  = string(auditinternal.StageResponseStarted)
	StageResponseComplete = string(auditinternal.StageResponseComplete)
	StagePanic            = string(auditinternal.StagePanic)
)

// maxPolicyBytes bounds a policy file; real ones are a few kilobytes.
const maxPolicyBytes = 4 << 20

// Policy is a loaded audit policy: the API server's own evaluator for it,
// and where each rule is written.
type Policy struct {
	// File names the policy in findings.
	File string
	// Rules are the policy's rules as the API server decoded them, each
	// with its place in the file.
	Rules []Rule
	// OmitStages are the policy-wide omitted stages.
	OmitStages []string
	// Line is where the policy's kind is written, for findings about the
	// policy as a whole.
	Line int
	// Lenient lists why the API server's strict decoding refused the
	// file (unknown or duplicate fields), each with its line; the server
	// then decodes it leniently, drops those fields and logs a warning.
	Lenient []FieldProblem

	full  apiaudit.PolicyRuleEvaluator
	rules []apiaudit.PolicyRuleEvaluator // one per rule, alone, at a level above None
}

// FieldProblem is a field the API server's strict decoding refuses, and
// where it is written.
type FieldProblem struct {
	Line    int
	Message string
}

// Rule is one rule of a policy and its position.
type Rule struct {
	// Index is the rule's 0-based position in rules.
	Index int
	// Line is the line of the rule's first field.
	Line int
	// Level is the rule's level.
	Level string
	// OmitStages are the stages the rule omits, the policy's included.
	OmitStages []string
	// ResourceLines are the lines of the rule's resources entries, in order.
	ResourceLines []int

	r auditinternal.PolicyRule
}

// Location is where the rule is written.
func (r *Rule) Location(file string) finding.Location {
	return finding.Location{File: file, Line: r.Line}
}

// LoadPolicy decodes and validates an audit policy as the API server does
// when it starts with --audit-policy-file: an error is a policy the server
// would refuse to start with, and names file:line where it can.
func LoadPolicy(file string, data []byte) (*Policy, error) {
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("%s: policy is larger than %d bytes", file, maxPolicyBytes)
	}
	p := &Policy{File: file}
	pos, err := findPositions(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	p.Line = pos.kind
	if err := pos.header(); err != nil {
		return nil, fmt.Errorf("%s:%w", file, err)
	}
	in := &auditinternal.Policy{}
	// The server decodes strictly first; on unknown or duplicate fields it
	// falls back to a lenient decoding and only warns.
	strict := serializer.NewCodecFactory(apiaudit.Scheme, serializer.EnableStrict).UniversalDecoder()
	_, gvk, err := strict.Decode(data, nil, in)
	if err != nil {
		if !runtime.IsStrictDecodingError(err) {
			return nil, fmt.Errorf("%s:%w", file, pos.decodeError(err))
		}
		p.Lenient = pos.lenient(err)
		in = &auditinternal.Policy{}
		_, gvk, err = apiaudit.Codecs.UniversalDecoder(auditv1.SchemeGroupVersion).Decode(data, nil, in)
		if err != nil {
			return nil, fmt.Errorf("%s:%w", file, pos.decodeError(err))
		}
	}
	if (schema.GroupVersion{Group: gvk.Group, Version: gvk.Version}) != auditv1.SchemeGroupVersion {
		// header() refuses every other apiVersion first; this is the
		// server's own check, kept in case a decoder defaults one.
		return nil, fmt.Errorf("%s:%d: apiVersion %s is not %s, the only one the API server reads", file, max(pos.kind, 1), gvk.GroupVersion(), auditv1.SchemeGroupVersion)
	}
	if errs := validation.ValidatePolicy(in); len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for _, e := range errs {
			msgs = append(msgs, fmt.Sprintf("%s:%d: %s", file, pos.lineOf(e.Field), e.Error()))
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	if len(in.Rules) == 0 {
		return nil, fmt.Errorf("%s:%d: the policy has no rules, which the API server refuses", file, max(pos.kind, 1))
	}
	for _, s := range in.OmitStages {
		p.OmitStages = append(p.OmitStages, string(s))
	}
	p.rules = make([]apiaudit.PolicyRuleEvaluator, len(in.Rules))
	for i, r := range in.Rules {
		rule := Rule{Index: i, Level: string(r.Level), r: *r.DeepCopy()}
		if i < len(pos.rules) {
			rule.Line = pos.rules[i].line
			rule.ResourceLines = pos.rules[i].resources
		}
		rule.OmitStages = union(p.OmitStages, r.OmitStages)
		p.Rules = append(p.Rules, rule)
		// The rule alone, at a level that is never the default's: it
		// matches a request exactly when the server's evaluator returns
		// that level, so the server's own matching names the deciding rule.
		alone := *r.DeepCopy()
		alone.Level = auditinternal.LevelMetadata
		p.rules[i] = policy.NewPolicyRuleEvaluator(&auditinternal.Policy{Rules: []auditinternal.PolicyRule{alone}})
	}
	p.full = policy.NewPolicyRuleEvaluator(in.DeepCopy())
	return p, nil
}

func union(a []string, b []auditinternal.Stage) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, string(s)) {
			out = append(out, string(s))
		}
	}
	slices.Sort(out)
	return out
}

// Request is what the audit policy is evaluated on: who asks for what.
type Request struct {
	User   string
	Groups []string
	Verb   string
	// APIGroup, Resource, Subresource, Namespace and Name describe a
	// resource request; Path a non-resource one (Resource empty).
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	Path        string
}

// IsResource reports whether r is a resource request.
func (r *Request) IsResource() bool { return r.Resource != "" }

func (r *Request) attributes() authorizer.AttributesRecord {
	return authorizer.AttributesRecord{
		User:            &user.DefaultInfo{Name: r.User, Groups: r.Groups},
		Verb:            r.Verb,
		Namespace:       r.Namespace,
		APIGroup:        r.APIGroup,
		Resource:        r.Resource,
		Subresource:     r.Subresource,
		Name:            r.Name,
		ResourceRequest: r.Resource != "",
		Path:            r.Path,
	}
}

// String renders the request the way kubectl auth can-i reads.
func (r *Request) String() string {
	var b strings.Builder
	b.WriteString(r.Verb)
	b.WriteByte(' ')
	if !r.IsResource() {
		b.WriteString(r.Path)
	} else {
		b.WriteString(r.Resource)
		if r.Subresource != "" {
			b.WriteString("/" + r.Subresource)
		}
		if r.APIGroup != "" {
			b.WriteString("." + r.APIGroup)
		}
		if r.Name != "" {
			b.WriteString(" " + r.Name)
		}
		if r.Namespace != "" {
			b.WriteString(" in " + r.Namespace)
		}
	}
	b.WriteString(" as " + r.User)
	return b.String()
}

// Decision is how a request is logged.
type Decision struct {
	// Level is the level the request is logged at; None means not at all.
	Level string `json:"level"`
	// Stages are the stages an event is written for, in order; none at
	// level None.
	Stages []string `json:"stages"`
	// Rule is the deciding rule's number, counted from 1 as the policy's
	// findings and --explain's text count them; 0 when no rule matches and
	// the server's default (None) applies.
	Rule int `json:"rule"`
	// Line is the deciding rule's line.
	Line int `json:"line,omitempty"`
	// OmitManagedFields is whether managedFields are dropped from bodies.
	OmitManagedFields bool `json:"omitManagedFields,omitempty"`
}

// Evaluate says how the API server logs r.
func (p *Policy) Evaluate(r *Request) Decision {
	attrs := r.attributes()
	cfg := p.full.EvaluatePolicyRule(&attrs)
	i := p.decider(&attrs)
	d := Decision{Level: string(cfg.Level), Rule: i + 1, OmitManagedFields: cfg.OmitManagedFields}
	if i >= 0 {
		d.Line = p.Rules[i].Line
	}
	if cfg.Level == auditinternal.LevelNone {
		d.Stages = []string{}
		return d
	}
	omit := make(map[string]bool, len(cfg.OmitStages))
	for _, s := range cfg.OmitStages {
		omit[string(s)] = true
	}
	d.Stages = []string{}
	for _, s := range []string{StageRequestReceived, StageResponseStarted, StageResponseComplete} {
		if s == StageResponseStarted && !LongRunning(r.Verb, r.Subresource) {
			continue
		}
		if !omit[s] {
			d.Stages = append(d.Stages, s)
		}
	}
	return d
}

// decider returns the index of the first rule that matches attrs alone,
// or -1.
func (p *Policy) decider(attrs authorizer.Attributes) int {
	for i, e := range p.rules {
		if e.EvaluatePolicyRule(attrs).Level != auditinternal.LevelNone {
			return i
		}
	}
	return -1
}

// matches reports whether rule i alone matches r.
func (p *Policy) matches(i int, r *Request) bool {
	attrs := r.attributes()
	return p.rules[i].EvaluatePolicyRule(&attrs).Level != auditinternal.LevelNone
}

// LongRunning reports whether kube-apiserver treats a request as long
// running, which gives it a ResponseStarted stage: watches, proxying, and
// the attach, exec, proxy, log and portforward subresources (the server's
// BasicLongRunningRequestCheck as kube-apiserver configures it).
func LongRunning(verb, subresource string) bool {
	switch verb {
	case "watch", "proxy":
		return true
	}
	switch subresource {
	case "attach", "exec", "proxy", "log", "portforward":
		return true
	}
	return false
}

// LevelAtLeast reports whether level a is at least level b.
func LevelAtLeast(a, b string) bool {
	return auditinternal.Level(a).GreaterOrEqual(auditinternal.Level(b))
}

// positions are where the parts of a policy document are.
type positions struct {
	kind   int
	rules  []rulePos
	fields map[string]int // top-level field name -> line
	// top is the document's top-level mapping, nil when it is not one.
	top *yaml.Node
	// apiVersion and kindName are the document's values for those
	// fields, and present whether each is written.
	apiVersion, kindName string
	present              map[string]bool
}

type rulePos struct {
	line      int
	fields    map[string]int
	resources []int
}

// findPositions finds the lines of the policy's parts. The API server decodes
// YAML and JSON alike; yaml.v3 reads both and keeps positions.
func findPositions(data []byte) (*positions, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	pos := &positions{fields: map[string]int{}, present: map[string]bool{}}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return pos, nil
	}
	top := doc.Content[0]
	pos.top = top
	pos.kind = top.Line
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		pos.fields[k.Value] = k.Line
		pos.present[k.Value] = true
		switch k.Value {
		case "kind":
			pos.kind = k.Line
			pos.kindName = v.Value
		case "apiVersion":
			pos.apiVersion = v.Value
		}
		if k.Value != "rules" || v.Kind != yaml.SequenceNode {
			continue
		}
		for _, r := range v.Content {
			rp := rulePos{line: r.Line, fields: map[string]int{}}
			if r.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(r.Content); j += 2 {
					rk, rv := r.Content[j], r.Content[j+1]
					rp.fields[rk.Value] = rk.Line
					if rk.Value == "resources" && rv.Kind == yaml.SequenceNode {
						for _, gr := range rv.Content {
							rp.resources = append(rp.resources, gr.Line)
						}
					}
				}
			}
			pos.rules = append(pos.rules, rp)
		}
	}
	return pos, nil
}

// lineOf maps a validation field path (rules[2].resources[0].group) to a
// line, as close as the path allows.
func (p *positions) lineOf(path string) int {
	line := max(p.kind, 1)
	var idx int
	if n, _ := fmt.Sscanf(path, "rules[%d]", &idx); n == 1 && idx >= 0 && idx < len(p.rules) {
		r := p.rules[idx]
		line = r.line
		rest := path[strings.Index(path, "]")+1:]
		rest = strings.TrimPrefix(rest, ".")
		field := rest
		if i := strings.IndexAny(field, ".["); i >= 0 {
			field = field[:i]
		}
		if l, ok := r.fields[field]; ok {
			line = l
		}
		var ri int
		if n, _ := fmt.Sscanf(rest, "resources[%d]", &ri); n == 1 && ri >= 0 && ri < len(r.resources) {
			line = r.resources[ri]
		}
		return line
	}
	if i := strings.IndexAny(path, ".["); i >= 0 {
		path = path[:i]
	}
	if l, ok := p.fields[path]; ok {
		return l
	}
	return line
}

// header checks the document's apiVersion and kind before the server's
// decoder does, to say what is wrong in the policy's terms rather than the
// decoder's (which names its scheme's Go source file). The error starts
// with the line, for "file:" to be prefixed.
func (p *positions) header() error {
	const want = "an audit policy starts with apiVersion: audit.k8s.io/v1 and kind: Policy"
	switch {
	case p.top == nil:
		return fmt.Errorf("1: not an audit policy: the file holds no YAML or JSON mapping; %s", want)
	case !p.present["apiVersion"] && !p.present["kind"]:
		return fmt.Errorf("%d: not an audit policy: no apiVersion and no kind; %s", max(p.top.Line, 1), want)
	case !p.present["apiVersion"]:
		return fmt.Errorf("%d: no apiVersion; %s", max(p.kind, 1), want)
	case !p.present["kind"]:
		return fmt.Errorf("%d: no kind; %s", p.fields["apiVersion"], want)
	case p.kindName != "Policy":
		return fmt.Errorf("%d: kind %q is not an audit policy (kind: Policy)", p.kind, p.kindName)
	}
	group, version, _ := strings.Cut(p.apiVersion, "/")
	switch {
	case p.apiVersion == auditv1.SchemeGroupVersion.String():
		return nil
	case group == auditv1.GroupName && (version == "v1alpha1" || version == "v1beta1"):
		// kubernetes/kubernetes#108092, in Kubernetes 1.24.
		return fmt.Errorf("%d: apiVersion %s is no longer read: the API server reads only audit.k8s.io/v1 since Kubernetes 1.24; change apiVersion to audit.k8s.io/v1 (the fields are the same)", p.fields["apiVersion"], p.apiVersion)
	}
	return fmt.Errorf("%d: apiVersion %q is not audit.k8s.io/v1, the only one the API server reads", p.fields["apiVersion"], p.apiVersion)
}

// typeError is how encoding/json reports a value of the wrong type.
var typeError = regexp.MustCompile(`cannot unmarshal (\w+) into Go struct field \w+\.([\w.]+) of type (\S+)`)

// decodeError says why the server's decoder refused the policy, in the
// policy's terms and at the line of the field when the error names one.
// The error starts with the line, for "file:" to be prefixed.
func (p *positions) decodeError(err error) error {
	if m := typeError.FindStringSubmatch(err.Error()); m != nil {
		path := strings.Split(m[2], ".")
		at, line := p.find(path)
		return fmt.Errorf("%d: %s is %s where %s is wanted", line, at, article(m[1]), wanted(m[3]))
	}
	return fmt.Errorf("%d: the API server cannot decode this policy: %v", max(p.kind, 1), err)
}

// article names a JSON value kind as encoding/json reports it.
func article(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "true or false"
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	}
	return kind
}

// wanted names a Go type of the policy's API in YAML's terms.
func wanted(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]string"):
		return "a list of strings"
	case strings.HasPrefix(goType, "[]"):
		return "a list of mappings"
	case goType == "string" || strings.HasSuffix(goType, ".Level") || strings.HasSuffix(goType, ".Stage"):
		return "a string"
	case goType == "bool" || strings.HasPrefix(goType, "*bool"):
		return "true or false"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	}
	return "a mapping"
}

// find walks the document along field names (a list's items are searched
// in order) and returns the path as found (rules[2].users) and the line of
// its last key; as far as it gets when the path is not all there.
func (p *positions) find(path []string) (string, int) {
	line := max(p.kind, 1)
	if p.top == nil {
		return strings.Join(path, "."), line
	}
	var walk func(n *yaml.Node, path []string, at string) (string, int, bool)
	walk = func(n *yaml.Node, path []string, at string) (string, int, bool) {
		if len(path) == 0 {
			return at, 0, true
		}
		switch n.Kind {
		case yaml.SequenceNode:
			for i, item := range n.Content {
				if got, l, ok := walk(item, path, fmt.Sprintf("%s[%d]", at, i)); ok {
					return got, l, true
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value != path[0] {
					continue
				}
				next := path[0]
				if at != "" {
					next = at + "." + path[0]
				}
				got, l, ok := walk(n.Content[i+1], path[1:], next)
				if l == 0 {
					l = n.Content[i].Line
				}
				return got, l, ok
			}
		}
		return at, 0, false
	}
	at, l, _ := walk(p.top, path, "")
	if at == "" {
		at = strings.Join(path, ".")
	}
	if l == 0 {
		l = line
	}
	return at, l
}

// strictField is how the strict decoder names a field it refuses.
var strictField = regexp.MustCompile(`^(unknown|duplicate) field "([^"]*)"$`)

// yamlLine is a line of the YAML decoder's strict errors.
var yamlLine = regexp.MustCompile(`(?m)^\s*line (\d+): (.+)$`)

// lenient lists the fields the strict decoding refused, each at its line.
func (p *positions) lenient(err error) []FieldProblem {
	var errs []error
	if se, ok := runtime.AsStrictDecodingError(err); ok {
		errs = se.Errors()
	} else {
		errs = []error{err}
	}
	out := make([]FieldProblem, 0, len(errs))
	for _, e := range errs {
		msg := e.Error()
		if yl := yamlLine.FindAllStringSubmatch(msg, -1); yl != nil {
			// The YAML layer's duplicate keys, one a line of the message:
			// "yaml: unmarshal errors:\n  line 9: key "x" already set in map".
			for _, m := range yl {
				var n int
				fmt.Sscanf(m[1], "%d", &n)
				out = append(out, FieldProblem{Line: max(n, 1), Message: m[2]})
			}
			continue
		}
		fp := FieldProblem{Line: max(p.kind, 1), Message: msg}
		if m := strictField.FindStringSubmatch(msg); m != nil {
			_, fp.Line = p.line(m[2])
		}
		out = append(out, fp)
	}
	return out
}

// line finds a path written as the strict decoder writes it
// (rules[0].resources[1].group): the line of its last key.
func (p *positions) line(path string) (*yaml.Node, int) {
	line := max(p.kind, 1)
	n := p.top
	for seg := range strings.SplitSeq(path, ".") {
		name, idx, _ := strings.Cut(seg, "[")
		if n == nil || n.Kind != yaml.MappingNode {
			return n, line
		}
		var next *yaml.Node
		// The last of duplicate keys is the one the strict decoder
		// names: search from the end.
		for i := len(n.Content) - 2; i >= 0; i -= 2 {
			if n.Content[i].Value == name {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			return n, line
		}
		n = next
		for idx != "" {
			var i int
			num, rest, _ := strings.Cut(idx, "]")
			if _, err := fmt.Sscanf(num, "%d", &i); err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
				return n, line
			}
			n = n.Content[i]
			line = n.Line
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	return n, line
}
