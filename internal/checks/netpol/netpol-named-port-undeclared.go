package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// NamedPortUndeclared reports a rule's named port (port: http) that no
// container of the pods it resolves against declares: for an ingress rule
// the pods the policy selects, for an egress rule the pods its peers
// select. The network plugin resolves a named port per destination pod;
// where no pod declares it, the port allows nothing, and the traffic the
// rule was written for is denied.
//
// It says nothing when the input holds none of those pods (they may be
// deployed from elsewhere), nor for an egress rule without peers. A named
// port declared with another protocol is netpol-named-port-protocol's.
//
// Low: the mistake closes traffic, it opens none.
var NamedPortUndeclared = check.Check{
	ID:       "netpol-named-port-undeclared",
	Title:    "NetworkPolicy named port that no selected pod declares",
	Severity: finding.Low,
	Category: category,
	Rationale: "A named port in a NetworkPolicy rule matches the container port of that name on each destination pod " +
		"(the selected pods for ingress, the peers for egress). If no such pod declares a container port with that name, " +
		"the port matches nothing, and the rule allows nothing on it.",
	Remediation: "Name the port in the pods' containers, or write the port number:\n" +
		"  containers:\n  - name: <container>\n    ports:\n    - name: <port name>\n      containerPort: <number>\n",
	DocURL: docURL + "#networkpolicy-resource",
	Kinds:  []string{policyKind},
	Scope:  check.ScopeInput,
	Needs:  []string{check.PodTemplates, namespaceKind},
	Run: func(p *check.Pass) {
		reportPods(p, netpol.NamedPortUndeclared, "named port declared by no destination pod")
	},
}
