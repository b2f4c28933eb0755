package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// EscalateVerb reports grants of escalate on Roles or ClusterRoles.
var EscalateVerb = check.Check{
	ID:       "rbac-escalate-verb",
	Title:    "escalate verb on roles",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "RBAC stops a user from writing a role with permissions the user lacks, except with the escalate verb: " +
		"with it, a subject that can update its own role can give itself any permission.",
	Remediation: "Remove escalate; let the people who administer RBAC hold the permissions they grant.",
	DocURL:      goodPractices + "#escalate-verb",
}
