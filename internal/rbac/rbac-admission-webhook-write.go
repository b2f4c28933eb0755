package rbac

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// AdmissionWebhookWrite reports write access to admission webhook
// configurations.
var AdmissionWebhookWrite = check.Check{
	ID:       "rbac-admission-webhook-write",
	Title:    "Can change admission webhooks",
	Severity: finding.High,
	Category: Category,
	Scope:    check.ScopeRBAC,
	Rationale: "Whoever controls mutatingwebhookconfigurations or validatingwebhookconfigurations can send every admitted " +
		"object, Secrets included, to a server of their choice, change objects as they are admitted (mutating) " +
		"or switch off the cluster's admission policies.",
	Remediation: "Keep create, update, patch and delete on webhook configurations to cluster operators and to the " +
		"controllers that own them, limited with resourceNames.",
	DocURL: goodPractices + "#control-admission-webhooks",
}
