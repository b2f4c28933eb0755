package namespace

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestPolicyTypes(t *testing.T) {
	ingress, egress := networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress
	tests := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want []networkingv1.PolicyType
	}{
		{name: "nothing declared", spec: networkingv1.NetworkPolicySpec{}, want: []networkingv1.PolicyType{ingress}},
		{
			name: "egress rules, no types",
			spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}},
			want: []networkingv1.PolicyType{ingress, egress},
		},
		{
			name: "ingress rules, no types",
			spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}},
			want: []networkingv1.PolicyType{ingress},
		},
		{
			name: "declared types win",
			spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{egress}, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}},
			want: []networkingv1.PolicyType{egress},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, policyTypes(&tt.spec)); diff != "" {
				t.Errorf("policyTypes (-want +got):\n%s", diff)
			}
		})
	}
}
