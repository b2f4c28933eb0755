package namespace

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/pod-security-admission/api"
)

// PSSEnforce reports namespaces that enforce no Pod Security level: those
// without a pod-security.kubernetes.io/enforce label, which get the
// cluster's default (privileged unless the admission configuration says
// otherwise), and those labelled enforce=privileged. An enforce label with
// an invalid value is enforced as restricted; namespace-pss-label-invalid
// reports it. Namespaces that must run privileged pods (kube-system, node
// agents) are reported too: suppress the finding there, with a reason, so
// the exception is written down.
var PSSEnforce = check.Check{
	ID:       "namespace-pss-enforce",
	Title:    "Namespace does not enforce baseline or restricted",
	Severity: finding.High,
	Category: "Pod Security Admission",
	Rationale: "The Pod Security Admission documentation and the Kubernetes security checklist ask that every namespace enforce a " +
		"Pod Security Standards level with the pod-security.kubernetes.io/enforce label: baseline at least, restricted where the " +
		"workloads allow. A namespace without the label gets the cluster default, privileged unless the PodSecurity admission " +
		"configuration changes it, and a namespace labelled privileged admits any pod: host namespaces, hostPath volumes, " +
		"privileged containers, everything a pod needs to take over its node.",
	Remediation: "Enforce a level in the namespace, and warn and audit at restricted to see what moving up would reject:\n" +
		"  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: my-namespace\n    labels:\n" +
		"      pod-security.kubernetes.io/enforce: baseline\n" +
		"      pod-security.kubernetes.io/enforce-version: latest\n" +
		"      pod-security.kubernetes.io/warn: restricted\n" +
		"      pod-security.kubernetes.io/audit: restricted",
	DocURL: "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
	Kinds:  []string{namespaceKind},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) {
			return
		}
		value, ok := ns.Labels[api.EnforceLevelLabel]
		if !ok {
			p.Report(check.Diagnostic{
				Names:  []string{"my-namespace", ns.Ref.Name},
				Path:   labelPath(api.EnforceLevelLabel),
				Reason: "no Pod Security enforce label",
				Detail: "namespace " + quote(ns.Ref.Name) + " has no " + api.EnforceLevelLabel + " label, so the API server enforces " +
					"the cluster default, privileged unless the PodSecurity admission configuration sets another level: any pod is admitted",
			})
			return
		}
		if level, err := api.ParseLevel(value); err == nil && level == api.LevelPrivileged {
			p.Report(check.Diagnostic{
				Names:  []string{"my-namespace", ns.Ref.Name},
				Path:   labelPath(api.EnforceLevelLabel),
				Reason: "Pod Security enforce level is privileged",
				Detail: "namespace " + quote(ns.Ref.Name) + " sets " + api.EnforceLevelLabel + "=privileged: the API server admits " +
					"any pod, with host namespaces, hostPath volumes and privileged containers",
			})
		}
	},
}
