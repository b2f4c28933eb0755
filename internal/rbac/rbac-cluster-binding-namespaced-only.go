package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ClusterBindingNamespacedOnly reports ClusterRoleBindings whose role
// grants only namespaced resources.
var ClusterBindingNamespacedOnly = check.Check{
	ID:       "rbac-cluster-binding-namespaced-only",
	Title:    "ClusterRoleBinding where RoleBindings would do",
	Severity: finding.Low,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "The role grants only namespaced resources, yet the ClusterRoleBinding grants them in every namespace, " +
		"present and future. Permissions should be assigned at the namespace level where possible.",
	Remediation: "Replace the ClusterRoleBinding with RoleBindings (to the same ClusterRole) in the namespaces the " +
		"subjects work in.",
	DocURL: goodPractices + "#least-privilege",
}
