package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// SelectsNoPod reports a NetworkPolicy whose podSelector selects none of
// the pods and pod templates of its namespace in the input, while the
// input does hold pods of that namespace: a typo in a label (app: wbe), or
// a workload renamed without its policy. Such a policy isolates nothing
// and allows nothing.
//
// It says nothing of a namespace of which the input holds no pod at all,
// so that a repository or chart of policies alone, whose pods are deployed
// from elsewhere, passes: the input cannot tell a typo from pods it does
// not hold. Nor of a namespace holding a custom resource, which an
// operator may turn into pods the input does not show (kube-prometheus's
// Alertmanager). Where the pods are split between repositories (a policy of a
// shared namespace selecting another team's pods), suppress it for the
// policy. The pods of every file of the input count (of twin copies
// envs/prod and envs/staging too), which can only hide a finding.
//
// Low: a policy that selects nothing protects nothing, but it opens
// nothing either; the pods it was meant for are, if no other policy
// selects them, reported by pod-no-network-policy (medium) for what an
// attacker gains from them.
var SelectsNoPod = check.Check{
	ID:       "netpol-selects-no-pod",
	Title:    "NetworkPolicy whose podSelector selects no pod of its namespace",
	Severity: finding.Low,
	Category: category,
	Rationale: "A NetworkPolicy applies to the pods its podSelector selects in its own namespace and to nothing else. " +
		"A selector that matches none of the namespace's pods (a misspelt label, a renamed workload) leaves the pods it " +
		"was written for unprotected while the policy looks in place.",
	Remediation: "Make the podSelector match the labels of the pods' template (or of the Pod), and check the " +
		"result with kubeguard netpol exposure:\n  spec:\n    podSelector:\n      matchLabels:\n        <label>: <value>",
	DocURL: docURL + "#networkpolicy-resource",
	Kinds:  []string{policyKind},
	Scope:  check.ScopeInput,
	Needs:  []string{check.PodTemplates, namespaceKind},
	Run: func(p *check.Pass) {
		reportPods(p, netpol.SelectsNoPod, "podSelector selects no pod of the namespace in the input")
	},
}
