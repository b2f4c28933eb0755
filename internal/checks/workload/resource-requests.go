package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

// defaultRequests are the requests a fix starts from when a container
// names none: a small service's, to be measured and adjusted.
var defaultRequests = map[corev1.ResourceName]string{corev1.ResourceCPU: "100m", corev1.ResourceMemory: "128Mi"}

// ResourceRequests reports containers that request no CPU or no memory.
// A limit counts as a request (the API server copies it), and so do
// pod-level requests (spec.resources), which cover every container. A
// LimitRange in the namespace may fill requests in at admission; the check
// does not count on one, since the manifest alone does not show it.
var ResourceRequests = check.Check{
	ID:       "resource-requests",
	Title:    "CPU or memory request missing",
	Severity: finding.Low,
	Category: "Resource management",
	Rationale: "The Kubernetes resource management documentation asks every container to declare CPU and memory requests: " +
		"the scheduler places a pod by its requests, so a container without them is packed onto nodes as if it needed nothing, " +
		"gets the smallest share of CPU when the node is busy, and is among the first evicted when memory runs short.",
	Remediation: "Set requests that match the container's normal use:\n" +
		"  resources:\n    requests:\n      cpu: 100m\n      memory: 128Mi",
	DocURL: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		pod := p.Template.Spec.Resources
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // the API does not allow resources on ephemeral containers
			}
			var missing []corev1.ResourceName
			var changes []object.Change
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if !requested(&c.Resources, name) && !requested(pod, name) {
					missing = append(missing, name)
					changes = append(changes, set(c.Path.Keys("resources", "requests", string(name)), defaultRequests[name]))
				}
			}
			if len(missing) == 0 {
				continue
			}
			path := c.Path.Keys("resources", "requests")
			what, effect := "CPU or memory", "it is scheduled as if it needed none, gets the smallest CPU share when the node is busy, and is among the first evicted when memory runs short"
			if len(missing) == 1 {
				path = path.Key(string(missing[0]))
				what, effect = "CPU", "it is scheduled as if it needed none and gets the smallest share when the node is busy"
				if missing[0] == corev1.ResourceMemory {
					what, effect = "memory", "it is scheduled as if it needed none and is among the first evicted when memory runs short"
				}
			}
			p.Report(check.Diagnostic{
				Path:        path,
				Containers:  []string{c.Name},
				Reason:      "no " + what + " request",
				Detail:      "container " + quote(c.Name) + " requests no " + what + ": " + effect,
				Remediation: fix(p, "Request what the container normally uses; these are a start to measure against", changes...),
			})
		}
	},
}
