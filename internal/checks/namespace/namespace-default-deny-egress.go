package namespace

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	networkingv1 "k8s.io/api/networking/v1"
)

// DefaultDenyEgress reports Namespace objects in the input with no
// default-deny egress NetworkPolicy among the input's NetworkPolicies: a
// policy with an empty podSelector, Egress among its policy types and no
// egress rules. A policy that declares no policy types never denies egress
// this way: the API server then gives it Egress only when it has egress
// rules. It reports only namespaces the input declares (see the package
// documentation).
var DefaultDenyEgress = check.Check{
	ID:       "namespace-default-deny-egress",
	Title:    "Namespace has no default-deny egress NetworkPolicy",
	Severity: finding.Low,
	Category: "Network policy",
	Rationale: "The Kubernetes NetworkPolicy documentation recommends a default policy that selects every pod of a namespace and " +
		"allows no egress, so that a compromised pod cannot reach other workloads, the cloud metadata endpoint or the internet " +
		"beyond what later policies allow. NetworkPolicies are enforced by the network plugin, which must support them.",
	Remediation: "Add a default-deny policy to the namespace, then allow what pods need, DNS first:\n" +
		"  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: default-deny-egress\n" +
		"    namespace: my-namespace\n  spec:\n    podSelector: {}\n    policyTypes:\n    - Egress\n" +
		"  ---\n" +
		"  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: allow-dns\n" +
		"    namespace: my-namespace\n  spec:\n    podSelector: {}\n    policyTypes:\n    - Egress\n    egress:\n" +
		"    - to:\n      - namespaceSelector:\n          matchLabels:\n            kubernetes.io/metadata.name: kube-system\n" +
		"        podSelector:\n          matchLabels:\n            k8s-app: kube-dns\n" +
		"      ports:\n      - {protocol: UDP, port: 53}\n      - {protocol: TCP, port: 53}",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies",
	Kinds:  []string{namespaceKind},
	Scope:  check.ScopeInput,
	Needs:  []string{networkPolicyKind},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) || hasDefaultDeny(p.Context, ns.Ref.Name, networkingv1.PolicyTypeEgress) {
			return
		}
		p.Report(check.Diagnostic{
			Names:  []string{"my-namespace", ns.Ref.Name},
			Path:   namePath,
			Reason: "no default-deny egress NetworkPolicy",
			Detail: "no NetworkPolicy in namespace " + quote(ns.Ref.Name) + " selects every pod (podSelector: {}) with policy type " +
				"Egress and no egress rules, so pods no other policy selects may connect anywhere",
		})
	},
}
