package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// FromEveryNamespace reports an ingress rule that admits every pod of every
// namespace: a peer with namespaceSelector: {} and no podSelector (or an
// empty one), or a rule without from, which admits addresses outside the
// cluster too. The pods the policy selects are then reachable on the
// rule's ports from any pod of the cluster: one compromised pod anywhere
// can connect to them. These are the pods and ports kubeguard netpol
// exposure counts as reachable from any namespace.
//
// Low: the rule is often meant (metrics scraped from a monitoring
// namespace, a server behind an ingress controller), and is narrower than
// a pod no policy selects (pod-no-network-policy, medium); the finding
// makes the exposure visible and asks for the namespaces that need it. An
// AdminNetworkPolicy or ClusterNetworkPolicy of the admin tier may still
// deny the traffic; kubeguard netpol can-reach answers with them.
var FromEveryNamespace = check.Check{
	ID:       "netpol-from-every-namespace",
	Title:    "NetworkPolicy ingress rule that admits every pod of every namespace",
	Severity: finding.Low,
	Category: category,
	Rationale: "A namespaceSelector that is empty selects every namespace, and a rule without from admits every source. " +
		"The NetworkPolicy documentation's model of isolation is to allow only the clients a workload needs; a rule open " +
		"to every namespace lets a pod compromised in any namespace connect to the selected pods.",
	Remediation: "Admit only the namespaces (and pods) that need the port, in the rule's from:\n" +
		"  - namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: <namespace>\n" +
		"    podSelector:\n      matchLabels:\n        <label>: <value>",
	DocURL: docURL + "#behavior-of-to-and-from-selectors",
	Kinds:  []string{policyKind},
	Run: func(p *check.Pass) {
		report(p, netpol.FromEveryNamespace, "ingress rule admits every pod of every namespace")
	},
}
