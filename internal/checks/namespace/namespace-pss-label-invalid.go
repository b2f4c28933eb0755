package namespace

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/pod-security-admission/api"
)

// psaLabel is one of the six Pod Security labels of a namespace.
type psaLabel struct {
	name    string
	version bool   // a *-version label, else a level label
	mode    string // enforce, audit or warn
	// effect says, for the level the API server falls back to, what the
	// namespace gets in this mode.
	effect func(api.LevelVersion) string
}

var psaLabels = []psaLabel{
	{api.EnforceLevelLabel, false, "enforce", func(lv api.LevelVersion) string {
		return "enforces " + string(lv.Level) + " instead"
	}},
	{api.EnforceVersionLabel, true, "enforce", nil},
	{api.AuditLevelLabel, false, "audit", func(lv api.LevelVersion) string {
		return "audits at " + string(lv.Level) + " instead, so no pod is ever annotated as a violation"
	}},
	{api.AuditVersionLabel, true, "audit", nil},
	{api.WarnLevelLabel, false, "warn", func(lv api.LevelVersion) string {
		return "warns at " + string(lv.Level) + " instead, so no user is ever warned"
	}},
	{api.WarnVersionLabel, true, "warn", nil},
}

// PSSLabelInvalid reports Pod Security labels whose values the API server
// cannot parse. Pod Security admission rejects creating a Namespace with
// such a label and changing a label to such a value, so a namespace carries
// one only when it was labelled while the admission plugin was off (before
// an upgrade, say) or when the manifest has never been applied. A namespace
// that does carry one is evaluated as the upstream library's
// PolicyToEvaluate resolves it: an invalid enforce level enforces
// restricted, an invalid audit or warn level falls open to privileged, an
// invalid version is latest. The finding says which, read from the library
// rather than restated here.
var PSSLabelInvalid = check.Check{
	ID:       "namespace-pss-label-invalid",
	Title:    "Invalid Pod Security label value",
	Severity: finding.Medium,
	Category: "Pod Security Admission",
	Rationale: "The Pod Security Admission documentation defines the namespace labels' values: privileged, baseline or restricted " +
		"for a level, latest or v1.N for a version. The API server rejects a Namespace created or relabelled with any other value, " +
		"and a namespace that carries one anyway is not evaluated as its author intended: an invalid enforce level is enforced as " +
		"restricted, rejecting pods nobody meant to reject, while an invalid audit or warn level falls back to privileged and " +
		"silently audits or warns about nothing.",
	Remediation: "Use a valid value:\n" +
		"  metadata:\n    labels:\n" +
		"      pod-security.kubernetes.io/enforce: baseline        # privileged | baseline | restricted\n" +
		"      pod-security.kubernetes.io/enforce-version: latest  # latest | v1.N\n" +
		"      pod-security.kubernetes.io/warn: restricted\n" +
		"      pod-security.kubernetes.io/audit: restricted",
	DocURL: "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
	Kinds:  []string{namespaceKind},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) {
			return
		}
		pol, errs := api.PolicyToEvaluate(ns.Labels, builtinDefault)
		if len(errs) == 0 {
			return
		}
		for _, l := range psaLabels {
			value, ok := ns.Labels[l.name]
			if !ok {
				continue
			}
			var err error
			if l.version {
				_, err = api.ParseVersion(value)
			} else {
				_, err = api.ParseLevel(value)
			}
			if err == nil {
				continue
			}
			lv := pol.Enforce
			switch l.mode {
			case "audit":
				lv = pol.Audit
			case "warn":
				lv = pol.Warn
			}
			effect := "evaluates " + l.mode + " at policy version " + lv.Version.String() + " instead"
			if l.effect != nil {
				effect = l.effect(lv)
			}
			p.Report(check.Diagnostic{
				Remediation: "Use a valid value (its own field; as a strategic merge patch):\n" +
					ns.Patch([]object.Change{{Path: labelPath(l.name), Value: validLabel(l.version, value, lv)}}),
				Path:   labelPath(l.name),
				Reason: "invalid " + l.name + " value",
				Detail: "label " + l.name + "=" + quote(value) + " is invalid (" + err.Error() + "): Pod Security admission rejects " +
					"creating a Namespace with it or changing the label to it, and a namespace that carries it " + effect,
			})
		}
	},
}

// validLabel is the value a fix gives an invalid label: what it evidently
// meant (Restricted, 1.25), else what the API server evaluates in its
// place.
func validLabel(version bool, value string, lv api.LevelVersion) string {
	if version {
		if v, err := api.ParseVersion("v" + strings.TrimPrefix(strings.ToLower(strings.TrimSpace(value)), "v")); err == nil {
			return v.String()
		}
		return "latest"
	}
	if l, err := api.ParseLevel(strings.ToLower(strings.TrimSpace(value))); err == nil {
		return string(l)
	}
	return string(lv.Level)
}
