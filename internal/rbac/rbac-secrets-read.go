package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// SecretsRead reports bindings that grant get, list or watch on Secrets.
var SecretsRead = check.Check{
	ID:       "rbac-secrets-read",
	Title:    "Read access to Secrets",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "The RBAC good practices warn that get on Secrets reveals their contents, and that list and watch do too: " +
		"a list response carries every Secret in full, ServiceAccount tokens and credentials included.",
	Remediation: "Grant get on the named Secrets the workload needs (resourceNames), in its namespace only; " +
		"never list or watch on Secrets, and never cluster-wide.",
	DocURL: goodPractices + "#listing-secrets",
}
