package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// NamespaceSelectorMatchesNothing reports a peer's namespaceSelector that
// selects none of the Namespaces of the input although they carry the
// label keys it names: a typo in a value silently closes the traffic the
// rule was written for. A selector by kubernetes.io/metadata.name, or by
// keys no Namespace of the input carries, is left alone: it may name a
// namespace another repository defines (an ingress controller's, say).
var NamespaceSelectorMatchesNothing = check.Check{
	ID:       "netpol-namespace-selector-matches-nothing",
	Title:    "NetworkPolicy namespaceSelector that selects no namespace",
	Severity: finding.Low,
	Category: category,
	Rationale: "A NetworkPolicy rule matches only what its selectors select; a namespaceSelector that selects no namespace makes " +
		"its peer match nothing, so the traffic the rule was written to allow stays denied, or an isolation meant for " +
		"another namespace never applies. Every namespace carries kubernetes.io/metadata.name, the reliable way to name one.",
	Remediation: "Select the namespace by the label the API server sets on it:\n" +
		"  namespaceSelector:\n    matchLabels:\n      kubernetes.io/metadata.name: <namespace>",
	DocURL: docURL + "#targeting-a-namespace-by-its-name",
	Kinds:  []string{policyKind},
	Needs:  []string{namespaceKind},
	Run: func(p *check.Pass) {
		report(p, netpol.SelectsNoNamespace, "namespaceSelector selects no namespace of the input")
	},
}
