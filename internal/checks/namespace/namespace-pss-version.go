package namespace

import (
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/pod-security-admission/api"
)

// PSSVersion reports namespaces whose pod-security.kubernetes.io/enforce-version
// pins an old policy version. Old is exact: a version older than the
// supportedMinors (3) newest policy versions the vendored Pod Security
// library defines, the newest being the highest MinimumVersion of its
// checks (see pss.NewestVersion). With v1.37 the newest, v1.35 to v1.37
// and latest pass and v1.34 is old. Pins newer than the library knows are
// not old. A namespace that enforces privileged is not reported, since
// privileged is the same at every version, nor is one without an enforce
// level (namespace-pss-enforce reports it), nor an invalid version, which
// the API server evaluates as latest (namespace-pss-label-invalid).
var PSSVersion = check.Check{
	ID:       "namespace-pss-version",
	Title:    "Pod Security enforce version pinned to an old policy",
	Severity: finding.Low,
	Category: "Pod Security Admission",
	Rationale: "The Pod Security Admission documentation lets a namespace pin the policy version it enforces " +
		"(pod-security.kubernetes.io/enforce-version) so that an upgrade does not change what is admitted overnight; the pin is " +
		"meant to move forward with the cluster. A pin to a policy older than the releases the Kubernetes project still " +
		"maintains holds the namespace to the Pod Security Standards as they were then, without the checks revised since.",
	Remediation: "Enforce the latest policy, or a version of a supported release, and warn at latest to see what the next\n" +
		"upgrade would reject:\n" +
		"  metadata:\n    labels:\n" +
		"      pod-security.kubernetes.io/enforce: restricted\n" +
		"      pod-security.kubernetes.io/enforce-version: latest\n" +
		"      pod-security.kubernetes.io/warn: restricted\n" +
		"      pod-security.kubernetes.io/warn-version: latest",
	DocURL: "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
	Kinds:  []string{namespaceKind},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) {
			return
		}
		if _, ok := ns.Labels[api.EnforceLevelLabel]; !ok {
			return
		}
		raw, ok := ns.Labels[api.EnforceVersionLabel]
		if !ok {
			return
		}
		v, err := api.ParseVersion(raw)
		if err != nil || v.Latest() || !pinnedTooOld(v) {
			return
		}
		pol, _ := api.PolicyToEvaluate(ns.Labels, builtinDefault)
		if pol.Enforce.Level == api.LevelPrivileged {
			return
		}
		detail := "namespace " + quote(ns.Ref.Name) + " enforces " + string(pol.Enforce.Level) + " at policy version " + v.String() +
			", older than the " + strconv.Itoa(supportedMinors) + " newest policy versions kubeguard knows (" +
			oldestCurrentVersion().String() + " to " + pss.NewestVersion().String() + ")"
		if revs := revisionsSince(v, pol.Enforce.Level); len(revs) > 0 {
			detail += "; pods are checked without the revisions made since: " + strings.Join(revs, ", ")
		}
		p.Report(check.Diagnostic{
			Path:   labelPath(api.EnforceVersionLabel),
			Reason: "enforce-version " + v.String() + " is old",
			Detail: detail,
		})
	},
}
