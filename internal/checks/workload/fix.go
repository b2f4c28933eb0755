package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
)

// fix is a finding's remediation: what to do, then the changes written
// as the object's own YAML from its root, its containers by name, so that
// the user can apply it as it stands (kubectl patch, or by hand).
func fix(p *check.Pass, what string, changes ...object.Change) string {
	return what + " (its own fields; as a strategic merge patch):\n" + p.Object.Patch(changes)
}

// enforceIn is a Namespace that enforces level.
func enforceIn(ns, level string) string {
	return "  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: " + ns + "\n    labels:\n      pod-security.kubernetes.io/enforce: " + level
}

// set is the change that sets the field at path to v.
func set(path object.Path, v any) object.Change { return object.Change{Path: path, Value: v} }

// quantity is the amount of a resource in a list, "" when there is none.
func quantity(l corev1.ResourceList, name corev1.ResourceName) string {
	if q, ok := l[name]; ok && !q.IsZero() {
		return q.String()
	}
	return ""
}
