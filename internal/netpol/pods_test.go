package netpol

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func template(ls map[string]string, hostNetwork bool, ports ...corev1.ContainerPort) *object.PodTemplate {
	return &object.PodTemplate{
		Metadata: metav1.ObjectMeta{Labels: ls},
		Spec:     corev1.PodSpec{HostNetwork: hostNetwork, Containers: []corev1.Container{{Name: "c", Ports: ports}}},
	}
}

// TestPodsDeduplicates holds the summary's memory to the distinct shapes:
// a thousand replicas of one template (with the same named ports, in any
// order, numbers aside) are one entry.
func TestPodsDeduplicates(t *testing.T) {
	p := NewPods()
	for i := range 1000 {
		a := corev1.ContainerPort{Name: "http", ContainerPort: int32(8000 + i%3)}
		b := corev1.ContainerPort{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}
		ports := []corev1.ContainerPort{a, b}
		if i%2 == 1 {
			ports = []corev1.ContainerPort{b, a, a}
		}
		if err := p.Add("shop", template(map[string]string{"app": "web", "tier": "front"}, false, ports...)); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 1 {
		t.Fatalf("1000 replicas of one shape: %d entries, want 1", p.Len())
	}
	for _, add := range []struct {
		ns string
		t  *object.PodTemplate
	}{
		{"shop", template(map[string]string{"app": "web"}, false)},                                                      // other labels
		{"other", template(map[string]string{"app": "web", "tier": "front"}, false)},                                    // other namespace
		{"shop", template(map[string]string{"app": "web", "tier": "front"}, true)},                                      // host network
		{"shop", template(map[string]string{"app": "web", "tier": "front"}, false, corev1.ContainerPort{Name: "http"})}, // other ports
		{"", template(map[string]string{"app": "web"}, false)},                                                          // the default namespace
		{"default", template(map[string]string{"app": "web"}, false)},                                                   // the same again
	} {
		if err := p.Add(add.ns, add.t); err != nil {
			t.Fatal(err)
		}
	}
	if p.Len() != 6 {
		t.Errorf("%d entries, want 6", p.Len())
	}
	if got := p.Namespaces(); !slices.Equal(got, []string{"default", "other", "shop"}) {
		t.Errorf("namespaces %v", got)
	}
	if err := p.Add("x", template(nil, false, corev1.ContainerPort{Name: "p", Protocol: "ICMP"})); err == nil {
		t.Error("a port of a protocol the API server refuses is not an error")
	}
}

// TestLintPodsAgreesWithEngine generates random inputs and holds LintPods
// to the engine that answers can-reach and matrix: a policy is reported
// as selecting no pod exactly when Network.Idle lists it (in a namespace
// with pods), and a named port exactly when the engine resolves it to no
// port for every destination workload of its rule.
func TestLintPodsAgreesWithEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	namespaces := []string{"a", "b", "c"}
	values := []string{"x", "y", "z"}
	portNames := []string{"http", "dns", "grpc"}
	protos := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP}
	sel := func() *metav1.LabelSelector {
		switch rng.IntN(4) {
		case 0:
			return &metav1.LabelSelector{}
		case 1:
			return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{values[rng.IntN(3)], values[rng.IntN(3)]}}}}
		}
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": values[rng.IntN(3)]}}
	}
	checked := map[IssueKind]int{}
	for iter := range 300 {
		var workloads []*Workload
		pods := NewPods()
		for i := range rng.IntN(6) {
			ns := namespaces[rng.IntN(2)] // c has no pods
			ls := map[string]string{"app": values[rng.IntN(3)]}
			var ports []corev1.ContainerPort
			for range rng.IntN(3) {
				ports = append(ports, corev1.ContainerPort{Name: portNames[rng.IntN(3)], ContainerPort: int32(1 + rng.IntN(100)), Protocol: protos[rng.IntN(2)]})
			}
			tm := template(ls, rng.IntN(8) == 0, ports...)
			cp, err := containerPorts(tm.Spec.Containers)
			if err != nil {
				t.Fatal(err)
			}
			workloads = append(workloads, &Workload{Namespace: ns, Kind: "Deployment", Name: fmt.Sprint("w", i), Labels: ls, Ports: cp, HostNetwork: tm.Spec.HostNetwork})
			if err := pods.Add(ns, tm); err != nil {
				t.Fatal(err)
			}
		}
		port := func() []networkingv1.NetworkPolicyPort {
			var out []networkingv1.NetworkPolicyPort
			for range rng.IntN(3) {
				p := networkingv1.NetworkPolicyPort{}
				if rng.IntN(2) == 0 {
					pr := protos[rng.IntN(2)]
					p.Protocol = &pr
				}
				v := intstr.FromString(portNames[rng.IntN(3)])
				if rng.IntN(4) == 0 {
					v = intstr.FromInt32(80)
				}
				p.Port = &v
				out = append(out, p)
			}
			return out
		}
		peers := func() []networkingv1.NetworkPolicyPeer {
			var out []networkingv1.NetworkPolicyPeer
			for range rng.IntN(3) {
				pe := networkingv1.NetworkPolicyPeer{}
				switch rng.IntN(4) {
				case 0:
					pe.PodSelector = sel()
				case 1:
					pe.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{MetadataNameLabel: namespaces[rng.IntN(3)]}}
				case 2:
					pe.NamespaceSelector, pe.PodSelector = &metav1.LabelSelector{}, sel()
				default:
					pe.IPBlock = &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}
				}
				out = append(out, pe)
			}
			return out
		}
		var policies []*Policy
		for i := range 1 + rng.IntN(3) {
			p := &Policy{Namespace: namespaces[rng.IntN(3)], Name: fmt.Sprint("p", i)}
			p.Spec.PodSelector = *sel()
			for range rng.IntN(3) {
				p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers(), Ports: port()})
			}
			for range rng.IntN(3) {
				p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers(), Ports: port()})
			}
			policies = append(policies, p)
		}
		n, errs := Build(nil, workloads, policies)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		idle := n.Idle()
		for _, p := range n.Policies {
			issues := LintPods(p, nil, pods)
			has := func(kind IssueKind, path string) bool {
				return slices.ContainsFunc(issues, func(is Issue) bool { return is.Kind == kind && (path == "" || is.Path.String() == path) })
			}
			withPods := len(pods.In(p.Namespace)) > 0
			// A policy selecting only host-network workloads is idle
			// for the engine too (they are out of its scope).
			wantIdle := withPods && slices.Contains(idle, p)
			if has(SelectsNoPod, "") != wantIdle {
				t.Fatalf("iteration %d: policy %s: SelectsNoPod %v, engine idle %v (issues %v)", iter, p.Ref(), !wantIdle, wantIdle, issues)
			}
			checked[SelectsNoPod]++
			if !withPods || wantIdle {
				continue
			}
			c, _ := compile(p)
			var selected []*Workload
			for _, w := range n.byNS[p.Namespace] {
				if c.selector.Matches(labels.Set(w.Labels)) {
					selected = append(selected, w)
				}
			}
			for dir, rules := range [2][]rule{c.inRules, c.outRules} {
				field := "ingress"
				if dir == 1 {
					field = "egress"
				}
				for i := range rules {
					r := &rules[i]
					dests := selected
					if dir == 1 {
						dests = nil
						if len(r.peers) == 0 {
							continue
						}
						for _, w := range n.Workloads {
							for j := range r.peers {
								if m, _ := n.peerMatches(c, &r.peers[j], Endpoint{Workload: w}); m && !r.peers[j].ipBlock {
									dests = append(dests, w)
									break
								}
							}
						}
						if len(dests) == 0 {
							continue
						}
					}
					for k, ps := range r.ports {
						if ps.name == "" {
							continue
						}
						resolves := false
						for _, w := range dests {
							if !ps.resolve(Endpoint{Workload: w}).Empty() {
								resolves = true
							}
						}
						base := fmt.Sprintf("spec.%s[%d].ports[%d]", field, i, k)
						got := has(NamedPortUndeclared, base+".port") || has(NamedPortProtocol, base) || has(NamedPortProtocol, base+".protocol") || has(NamedPortProtocol, base+".port")
						if got == resolves {
							t.Fatalf("iteration %d: policy %s %s (%s): reported %v, engine resolves it for some destination: %v (issues %v)", iter, p.Ref(), base, ps, got, resolves, issues)
						}
						checked[NamedPortUndeclared]++
					}
				}
			}
		}
	}
	if checked[SelectsNoPod] < 300 || checked[NamedPortUndeclared] < 100 {
		t.Errorf("too few cases compared: %v", checked)
	}
}

// TestLintPodsManyRulesAndShapes is adversarial: a policy of 2,000 egress
// rules, each with named ports and peers selecting every namespace, over
// 2,000 distinct pod shapes that all declare the names, only the last
// with the protocol asked. Each rule costs at most a selector match per
// shape (as the engine's index costs per peer and workload), so this is
// millions of matches, not a hang; and every rule is judged right.
func TestLintPodsManyRulesAndShapes(t *testing.T) {
	const rules, shapes = 2000, 2000
	pods := NewPods()
	for i := range shapes {
		proto := corev1.ProtocolUDP
		if i == shapes-1 {
			proto = corev1.ProtocolTCP
		}
		if err := pods.Add(fmt.Sprintf("ns%d", i%20), template(map[string]string{"app": fmt.Sprint(i)}, false,
			corev1.ContainerPort{Name: "http", ContainerPort: 80, Protocol: proto})); err != nil {
			t.Fatal(err)
		}
	}
	p := &Policy{Namespace: "ns0", Name: "p"}
	v := intstr.FromString("http")
	for i := range rules {
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
			To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{fmt.Sprint(i % 7)}}}}}},
			Ports: []networkingv1.NetworkPolicyPort{{Port: &v}},
		})
	}
	if issues := LintPods(p, nil, pods); len(issues) != 0 {
		t.Fatalf("%d issues, want none (the last shape declares http/TCP): %v", len(issues), issues[0])
	}
	// Without the last shape's TCP port, every rule's port is UDP only.
	udp := NewPods()
	for _, ns := range pods.Namespaces() {
		for _, s := range pods.In(ns) {
			udp.byNS[ns] = append(udp.byNS[ns], &PodShape{Namespace: s.Namespace, Labels: s.Labels, Named: []NamedPort{{"http", UDP}}})
		}
	}
	issues := LintPods(p, nil, udp)
	if len(issues) != rules || issues[0].Kind != NamedPortProtocol {
		t.Fatalf("%d issues, want %d of NamedPortProtocol", len(issues), rules)
	}
}
