package namespace

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	networkingv1 "k8s.io/api/networking/v1"
)

// DefaultDenyIngress reports Namespace objects in the input with no
// default-deny ingress NetworkPolicy among the input's NetworkPolicies: a
// policy with an empty podSelector, Ingress among its policy types (declared,
// or defaulted by the API server when none are declared) and no ingress
// rules. It reports only namespaces the input declares (see the package
// documentation).
var DefaultDenyIngress = check.Check{
	ID:       "namespace-default-deny-ingress",
	Title:    "Namespace has no default-deny ingress NetworkPolicy",
	Severity: finding.Medium,
	Category: "Network policy",
	Rationale: "The Kubernetes NetworkPolicy documentation recommends a default policy that selects every pod of a namespace and " +
		"allows no ingress, so that pods accept only the traffic later policies allow. Without one, a pod that no policy selects " +
		"accepts connections from every pod of the cluster, and a new workload starts out open. NetworkPolicies are enforced " +
		"by the network plugin, which must support them.",
	Remediation: "Add a default-deny policy to the namespace, then policies that allow what each workload needs:\n" +
		"  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: default-deny-ingress\n" +
		"    namespace: my-namespace\n  spec:\n    podSelector: {}\n    policyTypes:\n    - Ingress",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-policies",
	Kinds:  []string{namespaceKind},
	Scope:  check.ScopeInput,
	Needs:  []string{networkPolicyKind},
	Run: func(p *check.Pass) {
		ns := p.Object
		if !isNamespace(ns) || hasDefaultDeny(p.Context, ns.Ref.Name, networkingv1.PolicyTypeIngress) {
			return
		}
		p.Report(check.Diagnostic{
			Names:  []string{"my-namespace", ns.Ref.Name},
			Path:   namePath,
			Reason: "no default-deny ingress NetworkPolicy",
			Detail: "no NetworkPolicy in namespace " + quote(ns.Ref.Name) + " selects every pod (podSelector: {}) with policy type " +
				"Ingress and no ingress rules, so pods no other policy selects accept traffic from anywhere",
		})
	},
}
