package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

// MemoryLimit reports containers without a memory limit. It asks for no
// CPU limit, as the Kubernetes security checklist does not: memory cannot
// be taken back from a process except by killing it, so one container
// without a limit can exhaust a node, while CPU beyond the requests is
// shared out by weight and a CPU limit mostly adds throttling. A pod-level
// memory limit (spec.resources) bounds every container and satisfies the
// check.
var MemoryLimit = check.Check{
	ID:       "memory-limit",
	Title:    "Memory limit missing",
	Severity: finding.Medium,
	Category: "Resource management",
	Rationale: "The Kubernetes security checklist asks for a memory limit on every workload (and a CPU limit only on sensitive ones): " +
		"without one, a leak or a compromised container can take all of a node's memory, and the kernel and kubelet then kill or evict " +
		"other pods. kubeguard does not ask for CPU limits: CPU above the requests is shared by weight and reclaimed at once, " +
		"and a limit mostly adds throttling.",
	Remediation: "Set a memory limit, usually equal to the memory request:\n" +
		"  resources:\n    requests:\n      memory: 256Mi\n    limits:\n      memory: 256Mi",
	DocURL: "https://kubernetes.io/docs/concepts/security/security-checklist/#pod-security",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		if limited(p.Template.Spec.Resources, corev1.ResourceMemory) {
			return
		}
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // the API does not allow resources on ephemeral containers
			}
			if limited(&c.Resources, corev1.ResourceMemory) {
				continue
			}
			// The limit is the request where there is one: a limit
			// below the request is refused by the API server.
			limit := quantity(c.Resources.Requests, corev1.ResourceMemory)
			changes := []object.Change{set(c.Path.Keys("resources", "limits", "memory"), limit)}
			if limit == "" {
				limit = "256Mi"
				changes = []object.Change{set(c.Path.Keys("resources", "requests", "memory"), limit), set(c.Path.Keys("resources", "limits", "memory"), limit)}
			}
			p.Report(check.Diagnostic{
				Path:        c.Path.Keys("resources", "limits", "memory"),
				Containers:  []string{c.Name},
				Reason:      "no memory limit",
				Detail:      "container " + quote(c.Name) + " has no memory limit: it can use all of the node's memory and get other pods killed or evicted",
				Remediation: fix(p, "Set a memory limit, usually equal to the memory request", changes...),
			})
		}
	},
}
