package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	corev1 "k8s.io/api/core/v1"
)

// EphemeralStorageLimit reports containers without an ephemeral-storage
// limit. Pod-level resources cannot set one, so only the container's own
// limit counts.
var EphemeralStorageLimit = check.Check{
	ID:       "ephemeral-storage-limit",
	Title:    "Ephemeral storage limit missing",
	Severity: finding.Low,
	Category: "Resource management",
	Rationale: "The Kubernetes resource management documentation describes limits on local ephemeral storage: a container's writable layer, " +
		"its logs and its emptyDir volumes all use the node's disk, and without a limit one container can fill it, " +
		"putting the node under disk pressure so that the kubelet evicts other pods.",
	Remediation: "Set a limit on local ephemeral storage:\n" +
		"  resources:\n    limits:\n      ephemeral-storage: 1Gi",
	DocURL: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#local-ephemeral-storage",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // the API does not allow resources on ephemeral containers
			}
			if limited(&c.Resources, corev1.ResourceEphemeralStorage) {
				continue
			}
			// Not below the request, which the API server refuses.
			limit := quantity(c.Resources.Requests, corev1.ResourceEphemeralStorage)
			if limit == "" {
				limit = "1Gi"
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Keys("resources", "limits", "ephemeral-storage"),
				Containers: []string{c.Name},
				Reason:     "no ephemeral-storage limit",
				Detail:     "container " + quote(c.Name) + " has no ephemeral-storage limit: its logs and writable layer, and the pod's emptyDir volumes, can fill the node's disk",
				Remediation: fix(p, "Set a limit on local ephemeral storage",
					set(c.Path.Keys("resources", "limits", "ephemeral-storage"), limit)),
			})
		}
	},
}
