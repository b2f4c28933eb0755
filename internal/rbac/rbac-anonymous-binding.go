package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// AnonymousBinding reports bindings to system:unauthenticated or
// system:anonymous.
var AnonymousBinding = check.Check{
	ID:       "rbac-anonymous-binding",
	Title:    "Binding to unauthenticated users",
	Severity: finding.Critical,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "A binding to the system:unauthenticated group or the system:anonymous user grants its role to anyone who " +
		"can reach the API server over the network.",
	Remediation: "Remove the binding; bind the role to the authenticated identities that need it.",
	DocURL:      goodPractices + "#hardening",
}
