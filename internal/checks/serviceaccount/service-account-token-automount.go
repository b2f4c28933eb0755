package serviceaccount

import (
	"slices"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// TokenAutomount reports pods and pod templates that get their
// ServiceAccount's API token mounted automatically: the pod's
// automountServiceAccountToken is not false and, when the pod does not set
// it, neither is the ServiceAccount's (the pod's setting wins, as in the
// API server's ServiceAccount admission plugin). When the ServiceAccount
// holds a permission the RBAC good practices call a privilege escalation
// risk, through the bindings of the input as package rbac evaluates them,
// the finding is high and says which.
//
// The finding points at the pod's automountServiceAccountToken, or where
// it belongs: the pod spec is where the fix for this pod goes, even when
// the ServiceAccount's setting is what turns mounting on.
var TokenAutomount = check.Check{
	ID:       "service-account-token-automount",
	Title:    "ServiceAccount token mounted automatically",
	Severity: finding.Low,
	Category: Category,
	Rationale: "The Kubernetes security checklist asks that ServiceAccount tokens not be mounted in pods that do not need them, " +
		"and the ServiceAccount documentation shows how to opt out of automounting. Every container of a pod that mounts one can " +
		"act as its ServiceAccount against the API server, and so can whoever runs code in it; most applications never call the " +
		"API. The RBAC good practices add that tokens of powerful ServiceAccounts should reach as few pods as possible: such a " +
		"token is the escalation path from one compromised container to the cluster (high severity).",
	Remediation: "Turn automounting off in the pod spec (or on the ServiceAccount, for every pod that uses it):\n" +
		"  spec:\n    automountServiceAccountToken: false\n" +
		"and where a container does call the API, mount a short-lived token for it alone:\n" +
		"    volumes:\n    - name: api-token\n      projected:\n        sources:\n        - serviceAccountToken:\n" +
		"            path: token\n            expirationSeconds: 3600\n" +
		"    containers:\n    - name: app\n      volumeMounts:\n      - name: api-token\n" +
		"        mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n        readOnly: true",
	DocURL: "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
	Kinds:  []string{check.PodTemplates},
	Scope:  check.ScopeInput,
	Needs:  slices.Concat([]string{serviceAccountKind}, rbacKinds),
	Run: func(p *check.Pass) {
		t := p.Template
		name, _, _ := podServiceAccountName(t)
		sa := serviceAccount(p, name)
		var why string
		switch {
		case t.Spec.AutomountServiceAccountToken != nil:
			if !*t.Spec.AutomountServiceAccountToken {
				return
			}
			why = "the pod sets automountServiceAccountToken: true"
		case sa != nil && sa.AutomountServiceAccountToken != nil:
			if !*sa.AutomountServiceAccountToken {
				return
			}
			why = sa.ref() + " sets automountServiceAccountToken: true and the pod does not override it"
		case sa != nil:
			why = "neither the pod nor " + sa.ref() + " sets automountServiceAccountToken: false"
		default:
			why = "the pod does not set automountServiceAccountToken: false (its ServiceAccount " + quote(name) +
				" is not in the input, and mounts by default)"
		}
		d := check.Diagnostic{
			Path:   t.SpecPath().Key("automountServiceAccountToken"),
			Reason: "ServiceAccount token mounted automatically",
			Detail: "every container gets an API token of ServiceAccount " + quote(name) + ": " + why,
		}
		if reason, detail, ok := riskyPowers(p, sa, name); ok {
			high := finding.High
			d.Severity = &high
			d.Reason = "token of a powerful ServiceAccount mounted automatically"
			d.Detail = why + "; the pod " + reason + "; " + detail
		}
		p.Report(d)
	},
}
