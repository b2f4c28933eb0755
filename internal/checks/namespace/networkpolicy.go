package namespace

import (
	"slices"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const (
	networkPolicyKind       = "NetworkPolicy"
	networkPolicyAPIVersion = "networking.k8s.io/v1"
)

// networkPolicies returns the Kubernetes NetworkPolicies in namespace ns.
func networkPolicies(ctx *check.Context, ns string) []*object.Object {
	return objectsIn(ctx, networkPolicyAPIVersion, networkPolicyKind, ns)
}

// policySpec decodes a NetworkPolicy's spec; ok is false when it has the
// wrong shape, and such a policy, which the API server would not accept,
// counts for nothing.
func policySpec(o *object.Object) (spec networkingv1.NetworkPolicySpec, ok bool) {
	if err := o.Decode(object.Path{}.Key("spec"), &spec); err != nil {
		return spec, false
	}
	return spec, true
}

// podSelector returns the selector of the pods a NetworkPolicy applies to.
// Only the selector is decoded: pod-no-network-policy matches every pod
// template against every policy of its namespace.
func podSelector(o *object.Object) (labels.Selector, bool) {
	var ls metav1.LabelSelector
	if err := o.Decode(object.Path{}.Keys("spec", "podSelector"), &ls); err != nil {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return nil, false
	}
	return sel, true
}

// policyTypes returns the policy types the API server stores for spec.
// When none are declared it defaults them: Ingress always, and Egress too
// when the policy has egress rules. So a policy that declares no types
// and no rules denies ingress only.
func policyTypes(spec *networkingv1.NetworkPolicySpec) []networkingv1.PolicyType {
	if len(spec.PolicyTypes) > 0 {
		return spec.PolicyTypes
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(spec.Egress) > 0 {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	return types
}

// hasDefaultDeny reports whether a NetworkPolicy of namespace ns denies all
// traffic of type t to or from every pod: it selects all pods (an empty
// podSelector), has t among its policy types, and no rules of that
// direction.
func hasDefaultDeny(ctx *check.Context, ns string, t networkingv1.PolicyType) bool {
	for _, o := range networkPolicies(ctx, ns) {
		spec, ok := policySpec(o)
		if !ok {
			// A policy the API server would refuse (endPort: "90") is an
			// input error, reported at its field. What it would deny is
			// unknown: when it may select every pod, the namespace is not
			// said to lack a default deny on its account.
			if sel, ok := podSelector(o); !ok || sel.Empty() {
				return true
			}
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&spec.PodSelector)
		if err != nil || !sel.Empty() {
			continue
		}
		if !slices.Contains(policyTypes(&spec), t) {
			continue
		}
		rules := len(spec.Ingress)
		if t == networkingv1.PolicyTypeEgress {
			rules = len(spec.Egress)
		}
		if rules == 0 {
			return true
		}
	}
	return false
}
