// Package check is the engine every front shares: a Check is a plain struct
// value, and Engine runs a list of them over objects and collects findings.
package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

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
	// Scope is what the check looks at, which decides the fronts that run
	// it; the zero value is ScopeObject.
	Scope Scope
	// SkipAdmission, when set, says why the webhook does not run this
	// per-object check on admission requests (Pod Security Admission
	// answers for the Pod Security checks, say). Every other check of
	// ScopeObject runs at admission.
	SkipAdmission string
	// Kinds are the object kinds the check looks at. The pseudo-kind
	// PodTemplates stands for every object that has a pod template, and
	// AnyKind for every object.
	Kinds []string
	// Needs are kinds the check reads from the whole input (Namespace, for
	// its labels); the engine indexes them before the main pass.
	Needs []string
	// Run inspects one object and reports through the pass. It must not do
	// I/O or keep state: the engine runs it concurrently.
	Run func(*Pass)
}

// Scope is what a check looks at.
type Scope int

const (
	// ScopeObject checks look at one object at a time, with at most the
	// Namespace it lives in (which every front can give): scan, cluster and
	// admission run them.
	ScopeObject Scope = iota
	// ScopeInput checks relate an object to others of the input, the kinds
	// in Needs (a Deployment to the NetworkPolicies of its namespace):
	// scan and cluster run them; an admission request carries one object.
	ScopeInput
	// ScopeRBAC checks are found by the RBAC analysis, which reads roles,
	// bindings and workloads together (rbac risks, cluster); they have no
	// Run.
	ScopeRBAC
	// ScopeNode checks are found by kubeguard node over a node's
	// control-plane, kubelet and PKI files; they have no Run.
	ScopeNode
	// ScopeAudit checks are found by kubeguard audit over an audit policy
	// or audit logs; they have no Run.
	ScopeAudit
	// ScopeConfig checks are about kubeguard's own configuration (an
	// expired exemption); the run layer reports them, and they have no Run.
	ScopeConfig
)

// String names the scope as the docs do.
func (s Scope) String() string {
	switch s {
	case ScopeObject:
		return "object"
	case ScopeInput:
		return "input"
	case ScopeRBAC:
		return "rbac"
	case ScopeNode:
		return "node"
	case ScopeAudit:
		return "audit"
	case ScopeConfig:
		return "config"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// KnownKinds are the kinds a check may name in Kinds or Needs: those
// kubeguard reads. A kind outside it is a typo that would make a check
// silently look at nothing.
var KnownKinds = map[string]bool{
	PodTemplates: true, AnyKind: true,
	"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"ReplicationController": true, "Job": true, "CronJob": true, "PodTemplate": true,
	"Namespace": true, "Service": true, "Ingress": true, "NetworkPolicy": true,
	"Secret": true, "ConfigMap": true, "ServiceAccount": true, "LimitRange": true, "ResourceQuota": true,
	"PersistentVolume": true, "PersistentVolumeClaim": true,
	"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true,
	"AdminNetworkPolicy": true, "BaselineAdminNetworkPolicy": true, "ClusterNetworkPolicy": true,
	"Certificate": true, // cert-manager.io
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
		}
		if err := validScope(c); err != nil {
			return fmt.Errorf("check %q: %w", c.ID, err)
		}
		for _, k := range slices.Concat(c.Kinds, c.Needs) {
			if !KnownKinds[k] {
				return fmt.Errorf("check %q: unknown kind %q", c.ID, k)
			}
		}
		seen[c.ID] = true
	}
	return nil
}

// validScope checks that what a check declares fits its scope.
func validScope(c Check) error {
	beyondNamespace := slices.ContainsFunc(c.Needs, func(k string) bool { return k != "Namespace" })
	switch c.Scope {
	case ScopeObject, ScopeInput:
		switch {
		case c.Run == nil || len(c.Kinds) == 0:
			return fmt.Errorf("scope %s needs Kinds and Run", c.Scope)
		case c.Scope == ScopeObject && beyondNamespace:
			return fmt.Errorf("scope object reads other kinds (Needs %v): declare ScopeInput", c.Needs)
		case c.Scope == ScopeInput && !beyondNamespace:
			return fmt.Errorf("scope input needs kinds beyond Namespace in Needs")
		case c.Scope == ScopeInput && c.SkipAdmission != "":
			return fmt.Errorf("scope input never runs at admission: SkipAdmission says nothing")
		}
	case ScopeRBAC, ScopeNode, ScopeAudit, ScopeConfig:
		if c.Run != nil || len(c.Kinds) > 0 || len(c.Needs) > 0 || c.SkipAdmission != "" {
			return fmt.Errorf("scope %s has no Run, Kinds, Needs or SkipAdmission: its findings come from elsewhere", c.Scope)
		}
	default:
		return fmt.Errorf("unknown scope %v", c.Scope)
	}
	return nil
}

// AtAdmission reports whether the webhook runs c on admission requests.
func (c *Check) AtAdmission() bool { return c.Scope == ScopeObject && c.SkipAdmission == "" }

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
	// Names are old, new pairs replaced in the check's remediation: its
	// example names (my-namespace) become the object's own.
	Names []string
	// At, when set, is where the finding is written, for a field Path
	// does not locate (the earlier of two keys of one name).
	At *finding.Location
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
	if d.At != nil {
		loc = *d.At
	}
	sev := c.Severity
	if d.Severity != nil {
		sev = *d.Severity
	}
	fix := c.Remediation
	if len(d.Names) > 1 {
		fix = strings.NewReplacer(d.Names...).Replace(fix)
	}
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
