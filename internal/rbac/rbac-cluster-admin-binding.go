package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ClusterAdminBinding reports bindings to cluster-admin or to a role with
// the same all-powerful rule.
var ClusterAdminBinding = check.Check{
	ID:       "rbac-cluster-admin-binding",
	Title:    "Binding to cluster-admin",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "cluster-admin (every verb on every resource) should be used only where specifically needed; day-to-day " +
		"administration works with a lesser role and impersonation when needed. Through a RoleBinding it is full control " +
		"of the namespace, Roles and Secrets included.",
	Remediation: "Bind a role with the permissions the subject needs; for administrators, grant a read role and " +
		"impersonate rights to act as an administrator on demand.",
	DocURL: goodPractices + "#least-privilege",
}
