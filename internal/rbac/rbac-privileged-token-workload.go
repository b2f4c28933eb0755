package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// PrivilegedTokenWorkload reports workloads that mount the token of a
// ServiceAccount holding one of the risky permissions.
var PrivilegedTokenWorkload = check.Check{
	ID:       "rbac-privileged-token-workload",
	Title:    "Workload runs with a powerful ServiceAccount",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Pods should not be assigned ServiceAccounts with powerful permissions (any of the privilege escalation " +
		"risks): whoever escapes one of its containers, or can exec into it, holds the token.",
	Remediation: "Give the workload a ServiceAccount with only what it needs, set automountServiceAccountToken: false " +
		"where it needs no API access, and keep powerful Pods on few nodes, away from untrusted ones.",
	DocURL: goodPractices + "#minimize-distribution-of-privileged-tokens",
}
