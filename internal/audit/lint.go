package audit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// Category is the category of the audit checks.
const Category = "Audit"

const auditDoc = "https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/"

// The policy checks. They have no Run: the lint evaluates a policy as a
// whole, not object by object; the values carry the metadata reports need.
var (
	PolicySensitiveBody = check.Check{
		ID: "audit-policy-sensitive-body", Title: "Audit policy records Secret-bearing bodies", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Request or response bodies of secrets, configmaps, serviceaccounts/token, tokenreviews and certificate signing requests carry credentials; logged at Request or RequestResponse they are copied into the audit log, readable by whoever reads the log.",
		Remediation: "Add a rule logging these resources at Metadata before any rule that records their bodies.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyRuleShadowed = check.Check{
		ID: "audit-policy-rule-shadowed", Title: "Audit policy rule is never reached", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "The first matching rule decides a request's level; a rule whose every request is matched by earlier rules never applies, so what its author meant to record is not recorded.",
		Remediation: "Move the rule above the rules that shadow it, or delete it.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyWrongGroup = check.Check{
		ID: "audit-policy-wrong-group", Title: "Audit policy names a resource under a group that does not serve it", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A rule matches a resource only under the group named with it; a built-in resource under another built-in group (deployments under the core group \"\") never matches, and its requests fall through to later rules.",
		Remediation: "Name the resource under the group that serves it (deployments under apps).",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyNoCatchAll = check.Check{
		ID: "audit-policy-no-catch-all", Title: "Audit policy lets requests go unlogged by default", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A request no rule matches is logged at None: new resources, custom resources and anything the rules forgot leave no trace.",
		Remediation: "End the policy with a catch-all rule, for example `- level: Metadata`.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyRequestReceived = check.Check{
		ID: "audit-policy-request-received", Title: "Audit policy records the RequestReceived stage", Severity: finding.Low, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Every request logged with RequestReceived is written twice, once before it is handled; the event adds nothing the ResponseComplete event lacks and doubles the log's volume.",
		Remediation: "Add `omitStages: [\"RequestReceived\"]` at the top of the policy.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyExecNotRecorded = check.Check{
		ID: "audit-policy-exec-not-recorded", Title: "Audit policy does not record exec, attach or port-forward", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Running commands in a container, attaching to it, forwarding its ports or adding an ephemeral container to it are how an attacker acts inside a workload; logged at None they leave no trace.",
		Remediation: "Log pods/exec, pods/attach, pods/portforward and pods/ephemeralcontainers at Metadata or above, before any rule that drops them.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyRBACNotRecorded = check.Check{
		ID: "audit-policy-rbac-not-recorded", Title: "Audit policy does not record RBAC changes", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "Writes to roles, cluster roles and their bindings change who may do what; an attacker who grants themselves power would leave no trace.",
		Remediation: "Log writes to rbac.authorization.k8s.io at Request or above, before any rule that drops them.",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyNoneBroad = check.Check{
		ID: "audit-policy-none-broad", Title: "Audit policy drops everything a namespace or identity does", Severity: finding.High, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "A None rule with no verbs and no resources hides every request of a whole namespace or of an identity; an attacker who acts there, or as that identity (a stolen ServiceAccount token, anonymous access, a node), is invisible.",
		Remediation: "Restrict the None rule to the verbs and resources of the routine traffic it is meant to silence (for example `verbs: [\"get\", \"list\", \"watch\"]` on the resources a controller reads).",
		DocURL:      auditDoc + "#audit-policy",
	}
	PolicyLenient = check.Check{
		ID: "audit-policy-unknown-field", Title: "Audit policy has fields the API server ignores", Severity: finding.Medium, Category: Category, Scope: check.ScopeAudit,
		Rationale:   "The API server decodes a policy with unknown or duplicate fields leniently, drops those fields and only logs a warning: a misspelt omitStages or namespaces silently does nothing.",
		Remediation: "Fix or remove the fields named.",
		DocURL:      auditDoc + "#audit-policy",
	}
)

// PolicyChecks lists the policy checks, for reports.
var PolicyChecks = []check.Check{PolicySensitiveBody, PolicyRuleShadowed, PolicyWrongGroup, PolicyNoCatchAll,
	PolicyRequestReceived, PolicyExecNotRecorded, PolicyRBACNotRecorded, PolicyNoneBroad, PolicyLenient}

// probeUser stands for any user the policy does not name.
const (
	probeUser     = "kubeguard:any-user"
	probeGroup    = "kubeguard.example"
	probeResource = "kubeguardprobes"
	probeSub      = "kubeguardprobe"
	probeNS       = "kubeguard-any-namespace"
	probeName     = "kubeguard-any-name"
	probePath     = "/kubeguard-any-path"
)

// maxWork bounds the lint's work, in rule evaluations (probes times
// rules; about a second's worth). A policy large enough to need more is
// reported rather than half-analysed; real policies need a few million.
const maxWork = 8 << 20

// sensitive are the resources whose bodies carry credentials, with the
// verbs whose request body (Request level) or response body
// (RequestResponse level) holds them.
var sensitive = []struct {
	group, resource, sub string
	request, response    []string
	severity             finding.Severity
	why                  string
}{
	{"", "secrets", "", []string{"create", "update", "patch"}, []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}, finding.High, "Secret data"},
	{"", "configmaps", "", []string{"create", "update", "patch"}, []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}, finding.Medium, "ConfigMap data, which often holds credentials"},
	{"", "serviceaccounts", "token", nil, []string{"create"}, finding.High, "issued ServiceAccount tokens"},
	{"authentication.k8s.io", "tokenreviews", "", []string{"create"}, []string{"create"}, finding.High, "the bearer tokens being reviewed"},
	{"certificates.k8s.io", "certificatesigningrequests", "", []string{"create", "update", "patch"}, []string{"get", "list", "watch", "create", "update", "patch"}, finding.Low, "certificate requests and issued client certificates (no private key, but identities and large bodies)"},
}

var standardVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

type grs struct{ group, resource, sub string }

type probeSpace struct {
	// tooBig is set when the policy names more values than maxDimension
	// in one dimension: the space is not built further.
	tooBig     bool
	identities []Request // User and Groups only
	verbs      []string
	namespaces []string
	resources  []grs
	names      []string
	paths      []string
}

func (p *Policy) space() *probeSpace {
	s := &probeSpace{}
	users := []string{}
	groups := []string{}
	verbs := slices.Clone(standardVerbs)
	nss := []string{"", probeNS}
	names := []string{"", probeName}
	paths := []string{probePath, "/healthz", "/api"}
	res := []grs{{probeGroup, probeResource, ""}, {"", probeResource, ""}, {probeGroup, probeResource, probeSub}}
	for _, sv := range sensitive {
		res = append(res, grs{sv.group, sv.resource, sv.sub})
	}
	for _, sub := range []string{"exec", "attach", "portforward", "ephemeralcontainers", "log", "status"} {
		res = append(res, grs{"", "pods", sub})
	}
	res = append(res, grs{"", "pods", ""})
	for _, r := range []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"} {
		res = append(res, grs{"rbac.authorization.k8s.io", r, ""})
	}
	idents := []Request{{User: probeUser}}
	for i := range p.Rules {
		r := &p.Rules[i].r
		users = append(users, r.Users...)
		groups = append(groups, r.UserGroups...)
		verbs = append(verbs, r.Verbs...)
		nss = append(nss, r.Namespaces...)
		for _, u := range r.Users {
			for _, g := range r.UserGroups {
				if len(idents) > maxDimension {
					s.tooBig = true
					break
				}
				idents = append(idents, Request{User: u, Groups: []string{g}})
			}
		}
		for _, gr := range r.Resources {
			g := gr.Group
			if g == "*" {
				g = probeGroup
			}
			names = append(names, gr.ResourceNames...)
			if len(gr.Resources) == 0 {
				res = append(res, grs{g, probeResource, ""}, grs{g, probeResource, probeSub})
			}
			for _, name := range gr.Resources {
				var rs []grs
				resource, sub, _ := strings.Cut(name, "/")
				switch {
				case resource == "*" && sub == "":
					rs = append(rs, grs{g, probeResource, ""}, grs{g, probeResource, probeSub})
				case resource == "*":
					rs = append(rs, grs{g, probeResource, sub})
				case sub == "*":
					rs = append(rs, grs{g, resource, probeSub}, grs{g, resource, ""})
				default:
					rs = append(rs, grs{g, resource, sub})
				}
				for _, x := range rs {
					res = append(res, x)
					for _, bg := range BuiltinGroups(x.resource) {
						res = append(res, grs{bg, x.resource, x.sub})
					}
				}
			}
		}
		for _, u := range r.NonResourceURLs {
			switch {
			case u == "*":
			case strings.HasSuffix(u, "*"):
				base := strings.TrimSuffix(u, "*")
				paths = append(paths, base, base+"kubeguard-any")
			default:
				paths = append(paths, u)
			}
		}
	}
	for _, u := range dedupe(users) {
		idents = append(idents, Request{User: u})
	}
	for _, g := range dedupe(groups) {
		idents = append(idents, Request{User: probeUser, Groups: []string{g}})
	}
	s.identities = idents
	s.verbs = dedupe(verbs)
	s.namespaces = dedupe(nss)
	s.names = dedupe(names)
	s.paths = dedupe(paths)
	seen := map[grs]bool{}
	for _, x := range res {
		if !seen[x] {
			seen[x] = true
			s.resources = append(s.resources, x)
		}
	}
	return s
}

func dedupe(ss []string) []string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return slices.Compact(ss)
}

// namespacesFor are the probe namespaces that make sense for a resource:
// "" for cluster-scoped ones, the others for namespaced ones.
func (s *probeSpace) namespacesFor(x grs) []string {
	ns, known := namespaced(x.group, x.resource)
	switch {
	case !known:
		return s.namespaces
	case ns:
		return s.namespaces[1:] // sorted: "" first
	}
	return s.namespaces[:1]
}

// maxDimension bounds each dimension of the probe space, so that building
// it cannot take more memory than analysing it would take time.
const maxDimension = 1 << 16

// size is the number of probes each; its loops mirror each. It is counted
// in floating point: the product of the dimensions of an adversarial
// policy does not fit an int.
func (s *probeSpace) size() float64 {
	if s.tooBig || len(s.resources) > maxDimension || len(s.names) > maxDimension || len(s.namespaces) > maxDimension || len(s.verbs) > maxDimension || len(s.paths) > maxDimension {
		return math.Inf(1)
	}
	per := float64(len(s.identities)) * float64(len(s.verbs))
	n := per * float64(len(s.paths))
	for _, x := range s.resources {
		n += per * float64(len(s.namespacesFor(x))) * float64(len(s.names))
	}
	return n
}

// each calls f with every probe request; r is reused.
func (s *probeSpace) each(f func(r *Request)) {
	var r Request
	for _, id := range s.identities {
		for _, v := range s.verbs {
			for _, x := range s.resources {
				for _, ns := range s.namespacesFor(x) {
					for _, n := range s.names {
						r = Request{User: id.User, Groups: id.Groups, Verb: v, APIGroup: x.group, Resource: x.resource, Subresource: x.sub, Namespace: ns, Name: n}
						f(&r)
					}
				}
			}
			for _, path := range s.paths {
				r = Request{User: id.User, Groups: id.Groups, Verb: v, Path: path}
				f(&r)
			}
		}
	}
}

// Lint reports what is wrong with the policy. It evaluates every request
// the policy can tell apart (each user, group, namespace, verb, resource,
// name and path it names, and one it does not name for each) with the API
// server's evaluator.
func (p *Policy) Lint() []finding.Finding {
	var out []finding.Finding
	add := func(c check.Check, line int, sev finding.Severity, reason, detail string) {
		out = append(out, finding.Finding{
			CheckID: c.ID, Title: c.Title, Severity: sev, Category: c.Category,
			Object:   p.ref(),
			Location: finding.Location{File: p.File, Line: max(line, 1)},
			Reason:   reason, Detail: detail, Remediation: c.Remediation, DocURL: c.DocURL,
		})
	}
	if p.Lenient != "" {
		add(PolicyLenient, p.Line, PolicyLenient.Severity, "the API server decodes this policy leniently, ignoring: "+p.Lenient, "")
	}
	p.lintWrongGroup(add)
	s := p.space()
	if n := s.size(); n > float64(maxWork/(2*len(p.Rules))) {
		add(PolicyRuleShadowed, p.Line, finding.Info, fmt.Sprintf("the policy names too many values to analyse (%.3g requests to evaluate against %d rules); only the wrong-group lint ran", n, len(p.Rules)), "")
		return out
	}

	decides := make([]bool, len(p.Rules))
	type key struct {
		check string
		rule  int
		what  string
	}
	seen := map[key]bool{}
	once := func(k key, f func()) {
		if !seen[k] {
			seen[k] = true
			f()
		}
	}
	lineOf := func(rule int) int {
		if rule < 0 {
			return p.Line
		}
		return p.Rules[rule].Line
	}
	ruleName := func(rule int) string {
		if rule < 0 {
			return "no rule matches, so the default level None applies"
		}
		return fmt.Sprintf("rule %d (line %d, level %s) decides", rule+1, p.Rules[rule].Line, p.Rules[rule].Level)
	}
	var received []int
	execMiss, rbacMiss := misses{}, misses{}
	s.each(func(r *Request) {
		d := p.Evaluate(r)
		if d.Rule >= 0 {
			decides[d.Rule] = true
		}
		if slices.Contains(d.Stages, StageRequestReceived) && !slices.Contains(received, d.Rule) {
			received = append(received, d.Rule)
		}
		if d.Rule < 0 && r.User == probeUser && len(r.Groups) == 0 {
			once(key{PolicyNoCatchAll.ID, -1, ""}, func() {
				add(PolicyNoCatchAll, p.Line, PolicyNoCatchAll.Severity, "requests no rule matches are not logged: for example "+show(r), "")
			})
		}
		if !r.IsResource() {
			return
		}
		for _, sv := range sensitive {
			if r.APIGroup != sv.group || r.Resource != sv.resource || r.Subresource != sv.sub {
				continue
			}
			body := ""
			switch {
			case d.Level == LevelRequestResponse && slices.Contains(sv.response, r.Verb):
				body = "response"
				if slices.Contains(sv.request, r.Verb) {
					body = "request and response"
				}
			case LevelAtLeast(d.Level, LevelRequest) && slices.Contains(sv.request, r.Verb):
				body = "request"
			}
			if body == "" {
				continue
			}
			res := sv.resource
			if sv.sub != "" {
				res += "/" + sv.sub
			}
			once(key{PolicySensitiveBody.ID, d.Rule, res}, func() {
				add(PolicySensitiveBody, lineOf(d.Rule), sv.severity,
					fmt.Sprintf("%s are logged with their %s bodies, which hold %s", res, body, sv.why),
					fmt.Sprintf("for example %s: %s at %s", show(r), ruleName(d.Rule), d.Level))
			})
		}
		if d.Level != LevelNone {
			return
		}
		switch {
		case r.APIGroup == "" && r.Resource == "pods" && slices.Contains([]string{"exec", "attach", "portforward"}, r.Subresource) && (r.Verb == "create" || r.Verb == "get"),
			r.APIGroup == "" && r.Resource == "pods" && r.Subresource == "ephemeralcontainers" && (r.Verb == "update" || r.Verb == "patch"):
			execMiss.add(d.Rule, "pods/"+r.Subresource, r)
		case r.APIGroup == "rbac.authorization.k8s.io" && r.Subresource == "" && slices.Contains([]string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"}, r.Resource) && slices.Contains([]string{"create", "update", "patch", "delete", "deletecollection"}, r.Verb):
			rbacMiss.add(d.Rule, r.Resource, r)
		}
	})
	if len(received) > 0 {
		line := p.Line
		if len(p.OmitStages) == 0 {
			line = p.Line
		}
		var rules []string
		for _, i := range received {
			if i >= 0 {
				rules = append(rules, fmt.Sprintf("%d (line %d)", i+1, p.Rules[i].Line))
			}
		}
		slices.Sort(rules)
		add(PolicyRequestReceived, line, PolicyRequestReceived.Severity,
			"requests are logged twice: the RequestReceived stage is not omitted", "rules logging it: "+strings.Join(rules, ", "))
	}
	// A rule that decides nothing but matches requests on its own is
	// shadowed by the rules that decided those requests: one more pass
	// finds them for all such rules at once.
	var idle []int
	for i := range p.Rules {
		if !decides[i] {
			idle = append(idle, i)
		}
	}
	shadowers := make(map[int][]int, len(idle))
	if len(idle) > 0 {
		s.each(func(r *Request) {
			decided := -2
			for _, i := range idle {
				if !p.matches(i, r) {
					continue
				}
				if decided == -2 {
					decided = p.Evaluate(r).Rule
				}
				if !slices.Contains(shadowers[i], decided) {
					shadowers[i] = append(shadowers[i], decided)
				}
			}
		})
	}
	for _, i := range idle {
		by := shadowers[i]
		if len(by) == 0 {
			continue // matches nothing: a wrong group, reported above
		}
		slices.Sort(by)
		var names []string
		for _, j := range by {
			names = append(names, fmt.Sprintf("%d (line %d)", j+1, p.Rules[j].Line))
		}
		add(PolicyRuleShadowed, p.Rules[i].Line, PolicyRuleShadowed.Severity,
			fmt.Sprintf("rule %d (level %s) never applies: every request it matches is matched first by rule %s", i+1, p.Rules[i].Level, strings.Join(names, ", ")), "")
	}
	broad := map[int]bool{}
	for i := range p.Rules {
		if decides[i] && p.Rules[i].Level == LevelNone && p.lintNoneBroad(i, add) {
			broad[i] = true
		}
	}
	// A rule that drops everything is reported as such, not once more for
	// each thing it drops.
	for _, m := range []struct {
		c    check.Check
		miss misses
		what string
	}{{PolicyExecNotRecorded, execMiss, "%s not logged"}, {PolicyRBACNotRecorded, rbacMiss, "changes to %s not logged"}} {
		for _, rule := range m.miss.rules() {
			if broad[rule] {
				continue
			}
			e := m.miss[rule]
			add(m.c, lineOf(rule), m.c.Severity, fmt.Sprintf(m.what, strings.Join(e.what, ", "))+": "+ruleName(rule), "for example "+show(&e.example))
		}
	}
	return out
}

// misses collects, per deciding rule, what it fails to log and one example.
type misses map[int]*miss

type miss struct {
	what    []string
	example Request
}

func (m misses) add(rule int, what string, r *Request) {
	e := m[rule]
	if e == nil {
		e = &miss{example: *r}
		m[rule] = e
	}
	if !slices.Contains(e.what, what) {
		e.what = append(e.what, what)
	}
}

func (m misses) rules() []int {
	var out []int
	for r := range m {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func (p *Policy) ref() finding.ObjectRef {
	return finding.ObjectRef{APIVersion: "audit.k8s.io/v1", Kind: "Policy", Name: p.File}
}

// show renders a probe request without the placeholder names.
func show(r *Request) string {
	c := *r
	if c.Name == probeName || c.Name == "" {
		c.Name = ""
	}
	if c.User == probeUser {
		c.User = "any user"
	}
	s := c.String()
	s = strings.ReplaceAll(s, probeNS, "any namespace")
	s = strings.ReplaceAll(s, probeResource, "any resource")
	s = strings.ReplaceAll(s, probePath, "any path")
	return s
}

func (p *Policy) lintWrongGroup(add func(check.Check, int, finding.Severity, string, string)) {
	for i := range p.Rules {
		rule := &p.Rules[i]
		for j, gr := range rule.r.Resources {
			if gr.Group == "*" || !builtinGroups[gr.Group] {
				continue
			}
			line := rule.Line
			if j < len(rule.ResourceLines) {
				line = rule.ResourceLines[j]
			}
			for _, name := range gr.Resources {
				resource, _, _ := strings.Cut(name, "/")
				groups := BuiltinGroups(resource)
				if resource == "*" || len(groups) == 0 || slices.Contains(groups, gr.Group) {
					continue
				}
				want := make([]string, len(groups))
				for k, g := range groups {
					want[k] = fmt.Sprintf("%q", g)
				}
				add(PolicyWrongGroup, line, PolicyWrongGroup.Severity,
					fmt.Sprintf("rule %d names %s under group %q, which does not serve it; it never matches (served by %s)", i+1, name, gr.Group, strings.Join(want, ", ")), "")
			}
		}
	}
}

// attackerIdentities are users and groups an attacker acts as without
// owning anyone's credentials, or with ones commonly stolen: anonymous
// access, every authenticated user, ServiceAccount tokens (readable by
// whoever can create pods in their namespace) and nodes.
func attackerIdentity(name string) bool {
	switch name {
	case "system:anonymous", "system:unauthenticated", "system:authenticated", "system:serviceaccounts", "system:nodes":
		return true
	}
	return strings.HasPrefix(name, "system:serviceaccount:") || strings.HasPrefix(name, "system:serviceaccounts:") || strings.HasPrefix(name, "system:node:")
}

// lintNoneBroad reports a None rule that, for the namespace or identity it
// names, matches requests of every kind: reading Secrets, exec, RBAC
// writes and a resource nobody names.
func (p *Policy) lintNoneBroad(i int, add func(check.Check, int, finding.Severity, string, string)) bool {
	r := &p.Rules[i].r
	id := Request{User: probeUser}
	if len(r.Users) > 0 {
		id.User = r.Users[0]
	}
	if len(r.UserGroups) > 0 {
		id.Groups = []string{r.UserGroups[0]}
	}
	ns := probeNS
	if len(r.Namespaces) > 0 {
		ns = r.Namespaces[0]
	}
	tries := []Request{
		{Verb: "get", Resource: "secrets", Namespace: ns, Name: probeName},
		{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: ns, Name: probeName},
		{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings", Namespace: ns},
		{Verb: "delete", APIGroup: probeGroup, Resource: probeResource, Namespace: ns, Name: probeName},
	}
	if ns == probeNS || ns == "" {
		tries = append(tries, Request{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"})
	}
	for _, t := range tries {
		t.User, t.Groups = id.User, id.Groups
		if !p.matches(i, &t) {
			return false
		}
	}
	var who []string
	sev := finding.Medium
	if len(r.Namespaces) > 0 {
		who = append(who, "namespaces "+strings.Join(r.Namespaces, ", "))
		sev = finding.High
	}
	for _, u := range append(slices.Clone(r.Users), r.UserGroups...) {
		if attackerIdentity(u) {
			sev = finding.High
		}
	}
	if len(r.Users) > 0 {
		who = append(who, "users "+strings.Join(r.Users, ", "))
	}
	if len(r.UserGroups) > 0 {
		who = append(who, "groups "+strings.Join(r.UserGroups, ", "))
	}
	if len(who) == 0 {
		who = append(who, "every request")
		sev = finding.High
	}
	add(PolicyNoneBroad, p.Rules[i].Line, sev,
		fmt.Sprintf("rule %d logs nothing of what %s do: reading Secrets, exec into pods and RBAC changes included", i+1, strings.Join(who, " and ")), "")
	return true
}
