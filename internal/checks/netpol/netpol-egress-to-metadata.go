package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// EgressToMetadata reports an egress rule that lets the pods it selects
// reach 169.254.169.254 on TCP port 80: a rule with no destinations, or an
// ipBlock such as 0.0.0.0/0 that contains the address without excepting
// it. Cloud instance metadata services answer there with the node's
// credentials. Medium, not high: some clusters block the address in the
// node or the provider's metadata proxy, which manifests cannot show.
var EgressToMetadata = check.Check{
	ID:       "netpol-egress-to-metadata",
	Title:    "NetworkPolicy egress that allows the cloud metadata address",
	Severity: finding.Medium,
	Category: category,
	Rationale: "Pods that can reach the cloud provider's instance metadata service at 169.254.169.254 can read the node's " +
		"identity and, on many providers, credentials for the cloud account. Egress rules that open the internet with " +
		"0.0.0.0/0 should except the metadata address.",
	Remediation: "Except the metadata address from the ipBlock:\n" +
		"  egress:\n  - to:\n    - ipBlock:\n        cidr: 0.0.0.0/0\n        except: [169.254.169.254/32]",
	DocURL: docURL + "#networkpolicy-resource",
	Kinds:  []string{policyKind},
	Run: func(p *check.Pass) {
		report(p, netpol.EgressToMetadata, "egress allowed to the cloud metadata address 169.254.169.254")
	},
}
