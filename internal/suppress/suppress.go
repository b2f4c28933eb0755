// Package suppress decides which findings do not count: those covered by a
// kubeguard.io/ignore annotation, an exemption in .kubeguard.yaml, or a
// baseline report. Suppressed findings are kept, marked, so every output can
// show what was waived and why.
package suppress

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// Annotation keys. The object form covers the whole object (or pod
// template); the container form, AnnotationIgnore + "." + container name,
// covers findings about that container only:
//
//	kubeguard.io/ignore: "image-digest,read-only-root-filesystem -- vendor image, tracked in OPS-12"
//	kubeguard.io/ignore.istio-proxy: "pss-runAsNonRoot -- sidecar injected by the mesh"
const AnnotationIgnore = "kubeguard.io/ignore"

// Rule is one parsed ignore annotation.
type Rule struct {
	Key       string
	IDs       []string
	Reason    string
	Container string // empty for the object form
	// Path is where the annotation is written.
	Path object.Path
}

// ParseValue parses "id[,id] -- reason".
func ParseValue(v string) (ids []string, reason string, err error) {
	list, reason, found := strings.Cut(v, "--")
	reason = strings.TrimSpace(reason)
	if !found || reason == "" {
		return nil, "", fmt.Errorf(`no reason: write "<check-id>[,<check-id>] -- <why>"`)
	}
	for _, id := range strings.Split(list, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, "", fmt.Errorf("no check IDs before --")
	}
	return ids, reason, nil
}

// Rules reads the ignore annotations of an object and of its pod template.
// Malformed ones come back as errors keyed by where they are (nil when
// there are none).
func Rules(obj *object.Object) ([]Rule, map[string]error) {
	var (
		rules []Rule
		bad   map[string]error
	)
	read := func(annotations map[string]string, at object.Path) {
		keys := make([]string, 0, len(annotations))
		for k := range annotations {
			if strings.HasPrefix(k, AnnotationIgnore) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			container, ok := "", k == AnnotationIgnore
			if !ok {
				container, ok = strings.CutPrefix(k, AnnotationIgnore+".")
			}
			if !ok {
				continue
			}
			p := at.Key(k)
			ids, reason, err := ParseValue(annotations[k])
			if err != nil {
				if bad == nil {
					bad = map[string]error{}
				}
				bad[p.String()] = err
				continue
			}
			rules = append(rules, Rule{Key: k, IDs: ids, Reason: reason, Container: container, Path: p})
		}
	}
	read(obj.Annotations, objectAnnotations)
	if tp, ok := obj.TemplatePath(); ok && len(tp) > 0 {
		var ann map[string]string
		at := tp.Keys("metadata", "annotations")
		// Rules runs twice for every object (for the invalid-suppression
		// check and to mark findings), and most templates carry no ignore
		// annotation: their annotations are not decoded to find that out.
		if mayHoldIgnore(obj.Field(at)) {
			if err := obj.Decode(at, &ann); err == nil {
				read(ann, at)
			}
		}
	}
	return rules, bad
}

var objectAnnotations = object.Path{}.Keys("metadata", "annotations")

// mayHoldIgnore reports whether annotations written as n could decode to a
// map holding an ignore annotation. Only a mapping of plain keys none of
// which starts with AnnotationIgnore cannot; anything else (merges,
// aliases, tags that change a key, a node of the wrong kind) is left to
// the decoder to judge.
func mayHoldIgnore(n *yaml.Node) bool {
	if n == nil {
		return false // decoding leaves the map empty
	}
	if n.Kind != yaml.MappingNode {
		return true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Value == "<<" || strings.HasPrefix(k.Value, AnnotationIgnore) {
			return true
		}
		switch k.Tag {
		case "", "!!str", "!!int", "!!float", "!!bool", "!!null":
		default:
			return true
		}
	}
	return false
}

// covers reports whether a rule covers a finding: the check ID is listed
// and, for the container form, every container of the finding is the
// rule's container.
func (r *Rule) covers(f *finding.Finding) bool {
	if !slices.Contains(r.IDs, f.CheckID) {
		return false
	}
	if r.Container == "" {
		return true
	}
	return len(f.Containers) > 0 && !slices.ContainsFunc(f.Containers, func(c string) bool { return c != r.Container })
}

// Filter marks suppressed findings.
type Filter struct {
	// Config supplies exemptions and severity overrides; nil for none.
	Config *config.Config
	// NoAnnotations ignores kubeguard.io/ignore annotations (strict CI).
	NoAnnotations bool
	// Baseline holds the fingerprints of findings accepted earlier.
	Baseline map[string]bool
	// Now decides which exemptions have expired.
	Now time.Time
}

// Apply applies severity overrides and marks the suppressed findings of one
// object, in place. A nil object (findings of no manifest: node settings,
// audit events) has no annotations to honour.
func (f *Filter) Apply(obj *object.Object, fs []finding.Finding) {
	if len(fs) == 0 {
		return
	}
	var rules []Rule
	if !f.NoAnnotations && obj != nil {
		rules, _ = Rules(obj)
	}
	for i := range fs {
		fd := &fs[i]
		if f.Config != nil {
			if s, ok := f.Config.Checks.Severity[fd.CheckID]; ok {
				fd.Severity = s
			}
		}
		if fd.Suppressed != nil {
			continue
		}
		for j := range rules {
			if rules[j].covers(fd) {
				loc, _ := obj.Locate(rules[j].Path)
				fd.Suppressed = &finding.Suppression{Kind: "annotation", Reason: rules[j].Reason, Location: &loc}
				break
			}
		}
		if fd.Suppressed == nil && f.Config != nil {
			for j := range f.Config.Exemptions {
				e := &f.Config.Exemptions[j]
				if !e.Expired(f.Now) && e.Matches(fd.CheckID, fd.Object.Kind, fd.Object.Namespace, fd.Object.Name, fd.Containers) {
					fd.Suppressed = &finding.Suppression{Kind: "exemption", Reason: e.Reason,
						Location: &finding.Location{File: f.Config.Path, Line: e.Line}}
					break
				}
			}
		}
		if fd.Suppressed == nil && len(f.Baseline) > 0 && f.Baseline[Fingerprint(fd)] {
			fd.Suppressed = &finding.Suppression{Kind: "baseline", Reason: "present in the baseline report"}
		}
	}
}

// Fingerprint identifies a finding across runs without its line number, so
// that edits elsewhere in a file do not make old findings look new.
func Fingerprint(f *finding.Finding) string {
	o := f.Object
	return strings.Join([]string{f.CheckID, o.APIVersion, o.Kind, o.Namespace, o.Name, f.Path, strings.Join(f.Containers, ",")}, "\x00")
}

// LoadBaseline reads the fingerprints of the findings in a JSON report
// written by kubeguard scan -o json.
func LoadBaseline(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r struct {
		Schema   string            `json:"schema"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("baseline %s: not a kubeguard JSON report: %w", path, err)
	}
	if !strings.HasPrefix(r.Schema, "kubeguard.io/report/") {
		return nil, fmt.Errorf("baseline %s: not a kubeguard JSON report (schema %q)", path, r.Schema)
	}
	set := make(map[string]bool, len(r.Findings))
	for i := range r.Findings {
		set[Fingerprint(&r.Findings[i])] = true
	}
	return set, nil
}

// Expired reports every exemption of the configuration that has expired,
// as findings of ExpiredExemption located in the configuration file.
func (f *Filter) Expired() []finding.Finding {
	if f.Config == nil {
		return nil
	}
	var out []finding.Finding
	for _, e := range f.Config.Exemptions {
		if !e.Expired(f.Now) {
			continue
		}
		c := ExpiredExemption
		out = append(out, finding.Finding{
			CheckID:     c.ID,
			Title:       c.Title,
			Severity:    c.Severity,
			Category:    c.Category,
			Object:      finding.ObjectRef{APIVersion: "kubeguard.io/v1", Kind: "Config", Name: f.Config.Path},
			Location:    finding.Location{File: f.Config.Path, Line: e.Line},
			Reason:      "exemption expired on " + e.Expires,
			Detail:      fmt.Sprintf("exemption for %s (%s) no longer applies", strings.Join(e.Checks, ", "), e.Reason),
			Remediation: c.Remediation,
			DocURL:      c.DocURL,
		})
	}
	return out
}
