package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// SystemMastersBinding reports bindings whose subject is system:masters.
var SystemMastersBinding = check.Check{
	ID:       "rbac-system-masters-binding",
	Title:    "Binding to system:masters",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Members of system:masters bypass RBAC altogether and their access cannot be revoked by removing bindings. " +
		"A binding to the group changes nothing for them and suggests credentials are being issued with it.",
	Remediation: "Do not issue credentials in system:masters; grant administrators a role through a binding instead, " +
		"and remove this binding.",
	DocURL: goodPractices + "#least-privilege",
}
