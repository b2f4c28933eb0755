package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// BindVerb reports grants of bind on Roles or ClusterRoles.
var BindVerb = check.Check{
	ID:       "rbac-bind-verb",
	Title:    "bind verb on roles",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "The bind verb lifts RBAC's protection against escalation: its holder may bind roles with permissions it " +
		"does not have, cluster-admin included unless resourceNames limit it.",
	Remediation: "Remove bind, or limit it with resourceNames to the roles the subject may hand out.",
	DocURL:      goodPractices + "#bind-verb",
}
