package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// TokenRequest reports grants of create on serviceaccounts/token.
var TokenRequest = check.Check{
	ID:       "rbac-token-request",
	Title:    "Can issue ServiceAccount tokens",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "create on serviceaccounts/token issues tokens for existing ServiceAccounts: the holder acts with each " +
		"ServiceAccount's permissions.",
	Remediation: "Grant it only with resourceNames naming the ServiceAccounts concerned, in their namespace.",
	DocURL:      goodPractices + "#token-request",
}
