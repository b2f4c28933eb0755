package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// PeersOrNotAnd reports a from or to list in which an item with only a
// namespaceSelector sits next to an item with only a podSelector: the
// NetworkPolicy documentation's own example of a one-character mistake
// (a dash) that turns "these pods of these namespaces" into "every pod of
// these namespaces, and these pods of mine".
var PeersOrNotAnd = check.Check{
	ID:       "netpol-peers-or-not-and",
	Title:    "NetworkPolicy peers that match either selector where both were likely meant",
	Severity: finding.Medium,
	Category: category,
	Rationale: "The NetworkPolicy documentation warns that a namespaceSelector and a podSelector in one peer select the pods " +
		"matching both, while the same selectors as two list items are two peers, and traffic from either is allowed. " +
		"Written as two items, the rule admits every pod of the selected namespaces.",
	Remediation: "If only the selected pods of the selected namespaces are meant, make them one peer (one dash):\n" +
		"  - from:\n    - namespaceSelector:\n        matchLabels: {<namespace label>: <value>}\n      podSelector:\n        matchLabels: {<pod label>: <value>}\n" +
		"If either is meant, suppress the finding for this policy.",
	DocURL: docURL + "#behavior-of-to-and-from-selectors",
	Kinds:  []string{policyKind},
	Run: func(p *check.Pass) {
		report(p, netpol.PeersOrNotAnd, "two peers (OR) where one peer (AND) was likely meant")
	},
}
