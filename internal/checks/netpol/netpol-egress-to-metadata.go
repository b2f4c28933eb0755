package netpol

import (
	"net/netip"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/object"
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
		for _, is := range issues(p, netpol.EgressToMetadata) {
			p.Report(check.Diagnostic{Path: is.Path, Reason: "egress allowed to the cloud metadata address 169.254.169.254", Detail: is.Detail,
				Remediation: exceptMetadata(p.Object, is.Path)})
		}
	},
}

// metadataExcept is the except entry that keeps the metadata address out
// of an ipBlock.
const metadataExcept = "169.254.169.254/32"

// exceptMetadata is the fix of the egress rule at rule: the policy's own
// spec.egress (a list without a merge key, so written whole) with the
// metadata address excepted from every ipBlock of the rule that holds it;
// a rule without destinations gets ones that allow what it allowed, but
// the metadata address: every pod, and every address outside it.
func exceptMetadata(o *object.Object, rule object.Path) string {
	egress := rule[:len(rule)-1]
	var rules []map[string]any
	if err := o.Decode(egress, &rules); err != nil || len(rule) == 0 || rule[len(rule)-1].Index >= len(rules) {
		return ""
	}
	r := rules[rule[len(rule)-1].Index]
	peers, _ := r["to"].([]any)
	if len(peers) == 0 {
		r["to"] = []any{
			map[string]any{"namespaceSelector": map[string]any{}},
			map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0", "except": []any{metadataExcept}}},
			map[string]any{"ipBlock": map[string]any{"cidr": "::/0"}},
		}
	}
	for _, peer := range peers {
		m, _ := peer.(map[string]any)
		block, _ := m["ipBlock"].(map[string]any)
		cidr, _ := block["cidr"].(string)
		if pfx, err := netip.ParsePrefix(cidr); err != nil || !pfx.Contains(netpol.MetadataAddress) {
			continue
		}
		except, _ := block["except"].([]any)
		covered := false
		for _, e := range except {
			s, _ := e.(string)
			if x, err := netip.ParsePrefix(s); err == nil && x.Contains(netpol.MetadataAddress) {
				covered = true
			}
		}
		if !covered {
			block["except"] = append(except, metadataExcept)
		}
	}
	list := make([]any, len(rules))
	for i, r := range rules {
		list[i] = r
	}
	return "Except the metadata address from the rule's destinations (its own fields; as a strategic merge patch, " +
		"which replaces spec.egress whole):\n" + o.Patch([]object.Change{{Path: egress, Value: list}})
}
