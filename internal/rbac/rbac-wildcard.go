package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// Wildcard reports rules with "*" in verbs, resources or apiGroups.
var Wildcard = check.Check{
	ID:       "rbac-wildcard",
	Title:    "Wildcard in a role rule",
	Severity: finding.Medium,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "A wildcard grants every verb, resource or group there is, and every one added later: new resources and " +
		"CustomResourceDefinitions become accessible without anyone deciding so.",
	Remediation: "List the verbs, resources and API groups the subject needs.",
	DocURL:      goodPractices + "#least-privilege",
}
