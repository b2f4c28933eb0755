package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// BindingMissingRole reports bindings to roles that do not exist.
var BindingMissingRole = check.Check{
	ID:       "rbac-binding-missing-role",
	Title:    "Binding to a missing role",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "A binding to a role that does not exist grants nothing today, and grants whatever a role of that name " +
		"will hold to whoever creates it: a dormant grant that periodic review should remove.",
	Remediation: "Create the role the binding expects, or delete the binding. The API server's built-in roles are " +
		"included unless --no-defaults leaves them out.",
	DocURL: goodPractices + "#periodic-review",
}
