package namespace

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

// ResourceQuota reports Namespace objects in the input with no ResourceQuota
// that limits anything: a v1 ResourceQuota of the namespace with at least
// one entry in spec.hard. A quota scoped to some pods (spec.scopes,
// spec.scopeSelector) counts: the check asks that the namespace be
// bounded, not how. It reports only namespaces the input declares (see the
// package documentation).
var ResourceQuota = check.Check{
	ID:       "namespace-resource-quota",
	Title:    "Namespace has no ResourceQuota",
	Severity: finding.Medium,
	Category: "Resource management",
	Rationale: "The Kubernetes ResourceQuota documentation and the security checklist ask that namespaces shared by teams or " +
		"applications be given quotas: without one, whoever may create objects in the namespace can exhaust the cluster's " +
		"compute, storage and object counts (pods, Services, Secrets, ConfigMaps filling etcd), a denial of service for every " +
		"other tenant.",
	Remediation: "Add a ResourceQuota to the namespace that bounds compute and object counts:\n" +
		"  apiVersion: v1\n  kind: ResourceQuota\n  metadata:\n    name: quota\n    namespace: my-namespace\n  spec:\n    hard:\n" +
		"      requests.cpu: \"4\"\n      requests.memory: 8Gi\n      limits.memory: 8Gi\n      requests.storage: 100Gi\n" +
		"      pods: \"50\"\n      services: \"10\"\n      services.loadbalancers: \"0\"\n      services.nodeports: \"0\"\n" +
		"      secrets: \"50\"\n      configmaps: \"50\"\n      persistentvolumeclaims: \"10\"\n      count/jobs.batch: \"20\"",
	DocURL: "https://kubernetes.io/docs/concepts/policy/resource-quotas/",
	Kinds:  []string{namespaceKind},
	Scope:  check.ScopeInput,
	Needs:  []string{"ResourceQuota"},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) {
			return
		}
		for _, q := range objectsIn(p.Context, "v1", "ResourceQuota", ns.Ref.Name) {
			var hard corev1.ResourceList
			if err := q.Decode(object.Path{}.Keys("spec", "hard"), &hard); err == nil && len(hard) > 0 {
				return
			}
		}
		p.Report(check.Diagnostic{
			Names:  []string{"my-namespace", ns.Ref.Name},
			Path:   namePath,
			Reason: "no ResourceQuota",
			Detail: "no ResourceQuota in namespace " + quote(ns.Ref.Name) + " sets spec.hard, so nothing bounds the compute, storage " +
				"and number of objects the namespace may hold",
		})
	},
}
