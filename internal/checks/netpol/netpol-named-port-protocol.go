package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// NamedPortProtocol reports a rule's named port whose destination pods
// declare a container port of that name only with another protocol: a
// rule allowing port dns with the default protocol TCP, where the pods
// declare dns as UDP. A named port resolves by name and protocol both, so
// it matches nothing. The destinations are those of
// netpol-named-port-undeclared.
//
// Low: the mistake closes traffic, it opens none.
var NamedPortProtocol = check.Check{
	ID:       "netpol-named-port-protocol",
	Title:    "NetworkPolicy named port whose pods declare it with another protocol",
	Severity: finding.Low,
	Category: category,
	Rationale: "A NetworkPolicy port has the protocol TCP unless it says otherwise, and a named port matches a container " +
		"port of the same name and the same protocol. A rule naming a UDP port (DNS, say) without protocol: UDP matches nothing.",
	Remediation: "Give the rule's port the protocol its pods declare:\n  ports:\n  - port: <port name>\n    protocol: <UDP, TCP or SCTP>",
	DocURL:      docURL + "#networkpolicy-resource",
	Kinds:       []string{policyKind},
	Scope:       check.ScopeInput,
	Needs:       []string{check.PodTemplates, namespaceKind},
	Run: func(p *check.Pass) {
		reportPods(p, netpol.NamedPortProtocol, "named port declared by the destination pods with another protocol")
	},
}
