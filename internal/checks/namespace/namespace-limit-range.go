package namespace

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

// LimitRange reports Namespace objects in the input with no LimitRange that
// sets anything: a v1 LimitRange of the namespace with at least one entry in
// spec.limits. It reports only namespaces the input declares (see the
// package documentation).
var LimitRange = check.Check{
	ID:       "namespace-limit-range",
	Title:    "Namespace has no LimitRange",
	Severity: finding.Low,
	Category: "Resource management",
	Rationale: "The Kubernetes LimitRange documentation describes the per-object bounds a quota lacks: defaults for containers that " +
		"declare no requests or limits, and a maximum for any one container, pod or volume claim. Without one, a single pod may " +
		"take all of the namespace's quota or, with no quota, all of a node; and a ResourceQuota on requests or limits rejects " +
		"every pod that does not declare them, since nothing fills them in.",
	Remediation: "Add a LimitRange to the namespace:\n" +
		"  apiVersion: v1\n  kind: LimitRange\n  metadata:\n    name: defaults\n    namespace: my-namespace\n  spec:\n    limits:\n" +
		"    - type: Container\n      defaultRequest:\n        cpu: 100m\n        memory: 128Mi\n" +
		"      default:\n        memory: 256Mi\n        ephemeral-storage: 1Gi\n      max:\n        memory: 2Gi\n" +
		"    - type: PersistentVolumeClaim\n      max:\n        storage: 50Gi",
	DocURL: "https://kubernetes.io/docs/concepts/policy/limit-range/",
	Kinds:  []string{namespaceKind},
	Scope:  check.ScopeInput,
	Needs:  []string{"LimitRange"},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) {
			return
		}
		for _, l := range objectsIn(p.Context, "v1", "LimitRange", ns.Ref.Name) {
			var limits []corev1.LimitRangeItem
			if err := l.Decode(object.Path{}.Keys("spec", "limits"), &limits); err == nil && len(limits) > 0 {
				return
			}
		}
		p.Report(check.Diagnostic{
			Names:  []string{"my-namespace", ns.Ref.Name},
			Path:   namePath,
			Reason: "no LimitRange",
			Detail: "no LimitRange in namespace " + quote(ns.Ref.Name) + " sets spec.limits, so containers get no default requests " +
				"or limits and no maximum bounds a single pod",
		})
	},
}
