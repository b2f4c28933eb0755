// Package check is the engine every front shares: a Check is a plain struct
// value, and Engine runs a list of them over objects and collects findings.
package check

import (
	"fmt"
	"regexp"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Check is one rule of the catalogue.
type Check struct {
	// ID is kebab-case or, for Pod Security Standards, "pss-" and the
	// upstream check ID. It never changes once released.
	ID       string
	Title    string
	Severity finding.Severity
	Category string
	// Rationale says which Kubernetes recommendation the check enforces.
	Rationale   string
	Remediation string
	DocURL      string
	// Kinds are the object kinds the check looks at. The pseudo-kind
	// PodTemplates stands for every object that has a pod template, and
	// AnyKind for every object. A check with no kinds and no Run is about
	// the scan itself (its configuration); the scan reports it.
	Kinds []string
	// Needs are kinds the check reads from the whole input (Namespace, for
	// its labels); the engine indexes them before the main pass.
	Needs []string
	// Run inspects one object and reports through the pass. It must not do
	// I/O or keep state: the engine runs it concurrently.
	Run func(*Pass)
}

// PodTemplates in Check.Kinds selects every object with a pod template:
// Pods, workloads, and custom kinds with a template at the usual places.
const PodTemplates = "*PodTemplate"

// AnyKind in Check.Kinds selects every object.
const AnyKind = "*"

var idPattern = regexp.MustCompile(`^([a-z0-9]+(-[a-z0-9]+)*|pss-[A-Za-z]+(_[a-z]+)?)$`)

// Validate checks a registry: unique well-formed IDs and complete metadata.
func Validate(checks []Check) error {
	seen := map[string]bool{}
	for _, c := range checks {
		switch {
		case !idPattern.MatchString(c.ID):
			return fmt.Errorf("check %q: ID is not kebab-case", c.ID)
		case seen[c.ID]:
			return fmt.Errorf("check %q: duplicate ID", c.ID)
		case c.Title == "" || c.Category == "" || c.Rationale == "" || c.Remediation == "":
			return fmt.Errorf("check %q: title, category, rationale and remediation are required", c.ID)
		case c.DocURL == "":
			return fmt.Errorf("check %q: no doc URL", c.ID)
		case len(c.Kinds) == 0 && c.Run != nil:
			return fmt.Errorf("check %q: no kinds", c.ID)
		case len(c.Kinds) > 0 && c.Run == nil:
			return fmt.Errorf("check %q: no Run", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

// Diagnostic is what a check reports; the pass turns it into a Finding.
type Diagnostic struct {
	// Path is the offending field, or where a missing field belongs.
	Path       object.Path
	Containers []string
	Reason     string
	Detail     string
	Admission  []string
	// Severity, when set, overrides the check's severity.
	Severity *finding.Severity
	// Remediation, when set, replaces the check's: the fix written for
	// this object (its own names, the field that is at fault).
	Remediation string
}

// Pass is one check looking at one object.
type Pass struct {
	Object *object.Object
	// Template is the object's decoded pod template, nil when it has none.
	Template *object.PodTemplate
	Context  *Context

	check    *Check
	memo     map[string]any
	findings *[]finding.Finding
}

// Report records a finding of the pass's check.
func (p *Pass) Report(d Diagnostic) {
	c := p.check
	loc, _ := p.Object.Locate(d.Path)
	sev := c.Severity
	if d.Severity != nil {
		sev = *d.Severity
	}
	fix := c.Remediation
	if d.Remediation != "" {
		fix = d.Remediation
	}
	*p.findings = append(*p.findings, finding.Finding{
		CheckID:     c.ID,
		Title:       c.Title,
		Severity:    sev,
		Category:    c.Category,
		Object:      p.Object.Ref,
		Containers:  d.Containers,
		Path:        d.Path.String(),
		Location:    loc,
		Reason:      d.Reason,
		Detail:      d.Detail,
		Admission:   d.Admission,
		Remediation: fix,
		DocURL:      c.DocURL,
	})
}

// Memo returns the value computed by f for key, computing it once per
// object. Checks that share an expensive evaluation (all Pod Security
// checks share one run of the upstream evaluator) meet here.
func (p *Pass) Memo(key string, f func() any) any {
	if v, ok := p.memo[key]; ok {
		return v
	}
	v := f()
	if p.memo == nil {
		p.memo = map[string]any{}
	}
	p.memo[key] = v
	return v
}
