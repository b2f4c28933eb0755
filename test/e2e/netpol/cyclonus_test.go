// Package netpol holds kubeguard's NetworkPolicy engine to an independent
// one: github.com/mattfenwick/cyclonus v0.5.6, whose generator writes the
// test cases (policies and the changes of pods, labels and namespaces
// between probes) and whose matcher is the oracle.
package netpol

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/mattfenwick/cyclonus/pkg/generator"
	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The cluster cyclonus probes by default: namespaces x, y, z, each with
// pods a, b, c labelled pod=<name>, each pod serving 80 and 81 on TCP,
// UDP and SCTP from one container per port and protocol, with a named
// port serve-<port>-<protocol>.
var (
	namespaces = []string{"x", "y", "z"}
	podNames   = []string{"a", "b", "c"}
	ports      = []int{80, 81}
	protocols  = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	// outside are addresses outside the cluster: one far away, and one
	// inside the /24 of z/c's address that the generator's ipBlock cases
	// cut around.
	outside = []string{"8.8.8.8", "192.168.3.200"}
)

type pod struct {
	ns, name string
	labels   map[string]string
	ip       string
}

// state is the cluster between two probes.
type state struct {
	nsLabels map[string]map[string]string
	pods     []*pod
	policies []*networkingv1.NetworkPolicy
	nextIP   int
}

func initial() *state {
	s := &state{nsLabels: map[string]map[string]string{}}
	for i, ns := range namespaces {
		s.nsLabels[ns] = map[string]string{"ns": ns}
		for j, name := range podNames {
			s.pods = append(s.pods, &pod{ns: ns, name: name, labels: map[string]string{"pod": name}, ip: fmt.Sprintf("192.168.%d.%d", i+1, j+10)})
		}
	}
	return s
}

// zcIP is z/c's address, which the generator builds ipBlock cases around.
const zcIP = "192.168.3.12"

func (s *state) apply(t *testing.T, a *generator.Action) {
	switch {
	case a.CreatePolicy != nil:
		s.policies = append(s.policies, a.CreatePolicy.Policy)
	case a.UpdatePolicy != nil:
		p := a.UpdatePolicy.Policy
		i := slices.IndexFunc(s.policies, func(q *networkingv1.NetworkPolicy) bool { return q.Namespace == p.Namespace && q.Name == p.Name })
		if i < 0 {
			t.Fatalf("update of missing policy %s/%s", p.Namespace, p.Name)
		}
		s.policies[i] = p
	case a.DeletePolicy != nil:
		d := a.DeletePolicy
		s.policies = slices.DeleteFunc(s.policies, func(q *networkingv1.NetworkPolicy) bool { return q.Namespace == d.Namespace && q.Name == d.Name })
	case a.CreateNamespace != nil:
		s.nsLabels[a.CreateNamespace.Namespace] = a.CreateNamespace.Labels
	case a.SetNamespaceLabels != nil:
		s.nsLabels[a.SetNamespaceLabels.Namespace] = a.SetNamespaceLabels.Labels
	case a.DeleteNamespace != nil:
		ns := a.DeleteNamespace.Namespace
		delete(s.nsLabels, ns)
		s.pods = slices.DeleteFunc(s.pods, func(p *pod) bool { return p.ns == ns })
		s.policies = slices.DeleteFunc(s.policies, func(q *networkingv1.NetworkPolicy) bool { return q.Namespace == ns })
	case a.CreatePod != nil:
		c := a.CreatePod
		s.nextIP++
		s.pods = append(s.pods, &pod{ns: c.Namespace, name: c.Pod, labels: c.Labels, ip: fmt.Sprintf("192.168.100.%d", s.nextIP)})
	case a.SetPodLabels != nil:
		c := a.SetPodLabels
		for _, p := range s.pods {
			if p.ns == c.Namespace && p.name == c.Pod {
				p.labels = c.Labels
			}
		}
	case a.DeletePod != nil:
		c := a.DeletePod
		s.pods = slices.DeleteFunc(s.pods, func(p *pod) bool { return p.ns == c.Namespace && p.name == c.Pod })
	case a.ReadNetworkPolicies != nil:
	default:
		t.Fatalf("unknown action %+v", a)
	}
}

// nsLabelsOf is a namespace's labels as the API server keeps them.
func (s *state) nsLabelsOf(ns string) map[string]string {
	l := maps.Clone(s.nsLabels[ns])
	if l == nil {
		l = map[string]string{}
	}
	l[netpol.MetadataNameLabel] = ns
	return l
}

// manifests writes the state as kubectl would apply it, so that
// kubeguard reads it as it reads any input.
func (s *state) manifests(t *testing.T) []byte {
	var b bytes.Buffer
	add := func(o any) {
		y, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	for _, ns := range slices.Sorted(maps.Keys(s.nsLabels)) {
		add(corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: s.nsLabels[ns]}})
	}
	for _, p := range s.pods {
		var cs []corev1.Container
		for _, port := range ports {
			for _, proto := range protocols {
				lp := strings.ToLower(string(proto))
				cs = append(cs, corev1.Container{Name: fmt.Sprintf("cont-%d-%s", port, lp), Image: "agnhost",
					Ports: []corev1.ContainerPort{{Name: fmt.Sprintf("serve-%d-%s", port, lp), ContainerPort: int32(port), Protocol: proto}}})
			}
		}
		add(corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: p.ns, Labels: p.labels},
			Spec:       corev1.PodSpec{Containers: cs},
			Status:     corev1.PodStatus{PodIP: p.ip},
		})
	}
	for _, np := range s.policies {
		np := np.DeepCopy()
		np.TypeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
		add(np)
	}
	return b.Bytes()
}

// load reads manifests through kubeguard's loader and decoder.
func load(t *testing.T, data []byte) *netpol.Network {
	var in netpol.Input
	src := &manifest.Source{Paths: []string{"-"}, Stdin: bytes.NewReader(data)}
	errs := manifest.Ordered(context.Background(), src, 1, func(u manifest.Unit) []netpol.Decoded {
		var ds []netpol.Decoded
		for _, o := range u.Objects {
			ds = append(ds, netpol.Decode(o))
		}
		return ds
	}, func(u manifest.Unit, ds []netpol.Decoded) {
		for _, e := range u.Errors {
			t.Errorf("input: %v", e)
		}
		for _, d := range ds {
			if d.Err != nil {
				t.Errorf("decode: %v", d.Err)
			}
			in.Add(d)
		}
	})
	for _, e := range errs {
		t.Errorf("input: %v", e)
	}
	n, buildErrs := in.Build()
	for _, e := range buildErrs {
		t.Errorf("refused: %v", e)
	}
	return n
}

// probe is one connection both engines judge.
type probe struct {
	src, dst string // a pod's namespace/name, or an outside address
	port     int
	proto    corev1.Protocol
}

func (p probe) String() string { return fmt.Sprintf("%s -> %s %d/%s", p.src, p.dst, p.port, p.proto) }

// compare judges every probe of the state with both engines and returns
// the probes and the disagreements.
func compare(t *testing.T, s *state) (int, int, []string) {
	n := load(t, s.manifests(t))
	oracle := matcher.BuildNetworkPolicies(false, s.policies)
	podByID := map[string]*pod{}
	var ends []string
	for _, p := range s.pods {
		id := p.ns + "/" + p.name
		podByID[id] = p
		ends = append(ends, id)
	}
	ends = append(ends, outside...)
	peer := func(id string) *matcher.TrafficPeer {
		p, ok := podByID[id]
		if !ok {
			return &matcher.TrafficPeer{IP: id}
		}
		return &matcher.TrafficPeer{IP: p.ip, Internal: &matcher.InternalPeer{PodLabels: p.labels, NamespaceLabels: s.nsLabelsOf(p.ns), Namespace: p.ns}}
	}
	probes, allowedProbes := 0, 0
	var diffs []string
	for _, src := range ends {
		for _, dst := range ends {
			_, srcPod := podByID[src]
			_, dstPod := podByID[dst]
			if !srcPod && !dstPod {
				continue
			}
			se, err := n.Lookup(src)
			if err != nil {
				t.Fatalf("lookup %s: %v", src, err)
			}
			de, err := n.Lookup(dst)
			if err != nil {
				t.Fatalf("lookup %s: %v", dst, err)
			}
			allowed := n.Allowed(se, de)
			for _, port := range ports {
				for _, proto := range protocols {
					probes++
					name := ""
					if dstPod {
						name = fmt.Sprintf("serve-%d-%s", port, strings.ToLower(string(proto)))
					}
					want := oracle.IsTrafficAllowed(&matcher.Traffic{Source: peer(src), Destination: peer(dst), ResolvedPort: port, ResolvedPortName: name, Protocol: proto}).IsAllowed()
					if want {
						allowedProbes++
					}
					p, _ := netpol.ParseProtocol(string(proto))
					got := allowed.Has(p, port)
					explained := n.Explain(se, de, p, port).Allowed
					if got != want || explained != want {
						diffs = append(diffs, fmt.Sprintf("%v: kubeguard %v (explain %v), cyclonus %v", probe{src, dst, port, proto}, got, explained, want))
					}
				}
			}
		}
	}
	// The same answers once the peers are indexed, as the matrix does.
	var pairs []netpol.PortSet
	for _, src := range ends {
		for _, dst := range ends {
			se, _ := n.Lookup(src)
			de, _ := n.Lookup(dst)
			if se.Workload != nil || de.Workload != nil {
				pairs = append(pairs, n.Allowed(se, de))
			}
		}
	}
	n.Matrix(func(int, int, netpol.PortSet) {})
	i := 0
	for _, src := range ends {
		for _, dst := range ends {
			se, _ := n.Lookup(src)
			de, _ := n.Lookup(dst)
			if se.Workload != nil || de.Workload != nil {
				if got := n.Allowed(se, de); !got.Equal(pairs[i]) {
					diffs = append(diffs, fmt.Sprintf("%s -> %s: %v pair by pair, %v indexed", src, dst, pairs[i], got))
				}
				i++
			}
		}
	}
	return probes, allowedProbes, diffs
}

// TestCyclonusDifferential runs every test case cyclonus generates (its
// default namespaces and the address of z/c for the ipBlock cases), step by
// step, and asks both engines about every pair of pods and outside
// addresses, on every port and protocol the pods serve. They must agree
// on every probe.
func TestCyclonusDifferential(t *testing.T) {
	gen := generator.NewTestCaseGenerator(false, zcIP, namespaces, nil, nil)
	cases := gen.GenerateAllTestCases()
	if len(cases) < 200 {
		t.Fatalf("the generator made only %d cases", len(cases))
	}
	total, allowed, steps := 0, 0, 0
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%03d %s", i, tc.Description), func(t *testing.T) {
			s := initial()
			for j, step := range tc.Steps {
				for _, a := range step.Actions {
					s.apply(t, a)
				}
				n, a, diffs := compare(t, s)
				total += n
				allowed += a
				steps++
				for _, d := range diffs {
					t.Errorf("step %d: %s", j, d)
				}
				if len(diffs) > 0 {
					t.Logf("policies:\n%s", s.manifests(t))
				}
			}
		})
	}
	t.Logf("%d cases, %d steps, %d probes: %d allowed, %d denied", len(cases), steps, total, allowed, total-allowed)
	// Both answers must be common, or agreement would say little.
	if allowed < total/10 || total-allowed < total/10 {
		t.Errorf("%d of %d probes allowed: the cases do not exercise both answers", allowed, total)
	}
}
