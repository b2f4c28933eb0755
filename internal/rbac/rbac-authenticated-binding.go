package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// AuthenticatedBinding reports bindings, beyond the built-in ones, to the
// groups of every authenticated identity or every ServiceAccount.
var AuthenticatedBinding = check.Check{
	ID:       "rbac-authenticated-binding",
	Title:    "Binding to every authenticated identity",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "system:authenticated holds every user and every ServiceAccount of the cluster, and system:serviceaccounts " +
		"every ServiceAccount: a grant to either reaches every workload's token. The API server's own bindings to " +
		"them (discovery, basic user, public info) are the intended exceptions.",
	Remediation: "Bind the role to the users, groups or ServiceAccounts that need it.",
	DocURL:      goodPractices + "#least-privilege",
}
