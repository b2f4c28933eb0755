package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// Impersonate reports grants of impersonate on users, groups,
// ServiceAccounts, UIDs or user extras.
var Impersonate = check.Check{
	ID:       "rbac-impersonate",
	Title:    "Can impersonate",
	Severity: finding.Critical,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Impersonation acts with another identity's rights: impersonating groups reaches system:masters, and " +
		"impersonating users or ServiceAccounts gains whatever they hold.",
	Remediation: "Limit impersonate with resourceNames to the identities a subject may act as, and keep groups, " +
		"above all system:masters, out of reach.",
	DocURL: goodPractices + "#impersonate-verb",
}
