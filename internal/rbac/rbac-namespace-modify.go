package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// NamespaceModify reports grants of update or patch on Namespaces.
var NamespaceModify = check.Check{
	ID:       "rbac-namespace-modify",
	Title:    "Can modify namespaces",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Changing a namespace's labels can lower its Pod Security Admission level and change which NetworkPolicies " +
		"select it. A RoleBinding is enough to reach its own namespace's object.",
	Remediation: "Keep update and patch on namespaces to cluster operators.",
	DocURL:      goodPractices + "#namespace-modification",
}
