package netpol

import (
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/netpol/netpoltest"
	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// TestCyclonusGenerated holds kubeguard to cyclonus's matcher on the
// benchmark's kind of cluster, smaller: realistic selectors, named and
// ranged ports, ipBlocks over pod addresses, egress, across namespaces;
// every pair of pods and an outside address, on the ports the pods serve,
// a port of the ranges, and UDP.
func TestCyclonusGenerated(t *testing.T) {
	type port struct {
		port  int
		name  string
		proto corev1.Protocol
	}
	ports := []port{{8080, "http", corev1.ProtocolTCP}, {9090, "metrics", corev1.ProtocolTCP}, {9050, "", corev1.ProtocolTCP}, {53, "", corev1.ProtocolUDP}, {443, "", corev1.ProtocolTCP}}
	total, allowed := 0, 0
	for seed := uint64(1); seed <= 4; seed++ {
		c := netpoltest.Generate(netpoltest.Options{Namespaces: 6, Workloads: 90, Policies: 60, Seed: seed})
		if seed%2 == 0 {
			// Without the default denies most pods are open, so that both
			// answers are common.
			c.Policies = slices.DeleteFunc(c.Policies, func(p string) bool { return strings.Contains(p, "name: default-deny,") })
		}
		n := load(t, c.PodsYAML())
		var policies []*networkingv1.NetworkPolicy
		for _, doc := range c.Policies {
			var np networkingv1.NetworkPolicy
			if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
				t.Fatal(err)
			}
			// cyclonus reads policies as the API server stores them,
			// with their types defaulted.
			if len(np.Spec.PolicyTypes) == 0 {
				np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
				if len(np.Spec.Egress) > 0 {
					np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
				}
			}
			policies = append(policies, &np)
		}
		oracle := matcher.BuildNetworkPolicies(false, policies)
		nsLabels := func(ns string) map[string]string {
			return map[string]string{"env": c.Envs[ns], netpol.MetadataNameLabel: ns}
		}
		type end struct {
			id   string
			peer *matcher.TrafficPeer
		}
		var ends []end
		for _, w := range c.Workloads {
			ends = append(ends, end{w.Namespace + "/" + w.Name, &matcher.TrafficPeer{IP: w.IP, Internal: &matcher.InternalPeer{
				PodLabels: map[string]string{"app": w.Name, "tier": w.Tier}, NamespaceLabels: nsLabels(w.Namespace), Namespace: w.Namespace}}})
		}
		ends = append(ends, end{"10.0.2.7", &matcher.TrafficPeer{IP: "10.0.2.7"}}, end{"203.0.113.5", &matcher.TrafficPeer{IP: "203.0.113.5"}})
		for _, src := range ends {
			for _, dst := range ends {
				if src.peer.Internal == nil && dst.peer.Internal == nil {
					continue
				}
				se, err := n.Lookup(src.id)
				if err != nil {
					t.Fatal(err)
				}
				de, err := n.Lookup(dst.id)
				if err != nil {
					t.Fatal(err)
				}
				got := n.Allowed(se, de)
				for _, p := range ports {
					name := p.name
					if dst.peer.Internal == nil {
						name = ""
					}
					want := oracle.IsTrafficAllowed(&matcher.Traffic{Source: src.peer, Destination: dst.peer, ResolvedPort: p.port, ResolvedPortName: name, Protocol: p.proto}).IsAllowed()
					proto, _ := netpol.ParseProtocol(string(p.proto))
					total++
					if want {
						allowed++
					}
					if got.Has(proto, p.port) != want {
						t.Errorf("seed %d: %s -> %s %d/%s: kubeguard %v, cyclonus %v", seed, src.id, dst.id, p.port, p.proto, !want, want)
					}
				}
			}
		}
	}
	t.Logf("%d probes: %d allowed, %d denied", total, allowed, total-allowed)
	if allowed < total/20 || total-allowed < total/20 {
		t.Errorf("%d of %d allowed: the clusters do not exercise both answers", allowed, total)
	}
}
