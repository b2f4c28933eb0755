package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ReadOnlyRootFilesystem reports containers whose root filesystem is
// writable.
var ReadOnlyRootFilesystem = check.Check{
	ID:       "read-only-root-filesystem",
	Title:    "Writable root filesystem",
	Severity: finding.Medium,
	Category: "Security context",
	Rationale: "The Kubernetes security context documentation recommends readOnlyRootFilesystem: " +
		"an attacker who gains code execution cannot replace binaries or drop tools into the image's filesystem.",
	Remediation: "Set in the container, and mount an emptyDir where the application must write:\n" +
		"  securityContext:\n    readOnlyRootFilesystem: true",
	DocURL: "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // debugging containers are added by hand, not shipped
			}
			if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
				continue
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Keys("securityContext", "readOnlyRootFilesystem"),
				Containers: []string{c.Name},
				Reason:     "root filesystem is writable",
				Detail:     "container " + quote(c.Name) + " does not set securityContext.readOnlyRootFilesystem=true",
				Remediation: fix(p, "Make the container's root filesystem read-only, and mount an emptyDir where the application must write",
					set(c.Path.Keys("securityContext", "readOnlyRootFilesystem"), true)),
			})
		}
	},
}
