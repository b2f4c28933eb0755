package workload

import (
	corev1 "k8s.io/api/core/v1"
)

// requested reports whether r requests a non-zero amount of a resource.
// The API server copies a limit into a missing request, so a limit alone
// counts as a request of the same amount.
func requested(r *corev1.ResourceRequirements, name corev1.ResourceName) bool {
	if r == nil {
		return false
	}
	if q, ok := r.Requests[name]; ok {
		return !q.IsZero()
	}
	q, ok := r.Limits[name]
	return ok && !q.IsZero()
}

// limited reports whether r sets a non-zero limit on a resource.
func limited(r *corev1.ResourceRequirements, name corev1.ResourceName) bool {
	if r == nil {
		return false
	}
	q, ok := r.Limits[name]
	return ok && !q.IsZero()
}
