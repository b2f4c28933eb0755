package netpol_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// fuzzPods are the pods every fuzzed input is evaluated against.
const fuzzPods = `
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: x, labels: {team: x}}}
- {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]}]}, status: {podIP: 10.0.0.1}}
- {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: "y", labels: {app: b}}, spec: {containers: [{name: c, image: i}]}}
`

// FuzzPolicy reads fuzzed manifests as the commands do and asks every
// question of the result: nothing may panic or hang, and the pair-by-pair
// answer, the explanation and the indexed matrix must agree.
func FuzzPolicy(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(checkInput)
}

// checkInput is FuzzPolicy's body.
func checkInput(t *testing.T, data []byte) {
	{
		var in netpol.Input
		pods := netpol.NewPods()
		src := &manifest.Source{Paths: []string{"-"}, Stdin: bytes.NewReader(append([]byte(fuzzPods+"\n---\n"), data...))}
		manifest.Ordered(context.Background(), src, 1, func(u manifest.Unit) []netpol.Decoded {
			var ds []netpol.Decoded
			for _, o := range u.Objects {
				ds = append(ds, netpol.Decode(o))
				if t, err := o.PodTemplate(); err == nil && t != nil && o.Ref.Kind != "PodTemplate" {
					pods.Add(o.Ref.Namespace, t)
				}
			}
			return ds
		}, func(_ manifest.Unit, ds []netpol.Decoded) {
			for _, d := range ds {
				in.Add(d)
			}
		})
		n, _ := in.Build()
		idle := n.Idle()
		for _, p := range n.Policies {
			netpol.Lint(p, in.Namespaces)
			// The summary holds every definition of a workload, the
			// engine the last: a policy selecting none of the summary's
			// pods selects none of the engine's.
			for _, is := range netpol.LintPods(p, in.Namespaces, pods) {
				if is.Kind == netpol.SelectsNoPod && !slices.Contains(idle, p) {
					t.Fatalf("%s: LintPods says it selects no pod, the engine does not list it idle", p.Ref())
				}
			}
		}
		es := append(n.Endpoints(), netpol.Endpoint{}, mustLookup(t, n, "10.0.0.9"), mustLookup(t, n, "169.254.169.254"))
		type pair struct{ i, j int }
		direct := map[pair]netpol.PortSet{}
		for i, s := range es {
			for j, d := range es {
				if s.Workload == nil && d.Workload == nil {
					continue
				}
				got := n.Allowed(s, d)
				direct[pair{i, j}] = got
				for _, probe := range []struct {
					proto netpol.Protocol
					port  int
				}{{netpol.TCP, 80}, {netpol.UDP, 53}, {netpol.SCTP, 9}, {netpol.TCP, 65535}} {
					if v := n.Explain(s, d, probe.proto, probe.port); v.Allowed != got.Has(probe.proto, probe.port) {
						t.Fatalf("%v -> %v %v/%d: explained %v, allowed %v", s, d, probe.proto, probe.port, v.Allowed, got)
					}
				}
			}
		}
		n.Matrix(func(i, j int, p netpol.PortSet) {
			if !p.Equal(direct[pair{i, j}]) {
				t.Fatalf("%v -> %v: matrix %v, pair by pair %v", es[i], es[j], p, direct[pair{i, j}])
			}
		})
		n.Exposures()
		n.Idle()
	}
}

func mustLookup(t *testing.T, n *netpol.Network, s string) netpol.Endpoint {
	e, err := n.Lookup(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"x/a", "x/pod/a", "x/Deployment/web", "10.0.0.1", "::1", "a/b/c/d", "", "/", "x//a", "169.254.169.254"} {
		f.Add(s)
	}
	n, _ := load(f, "testdata/workloads.yaml")
	f.Fuzz(func(t *testing.T, s string) {
		e, err := n.Lookup(s)
		if err == nil && e.Workload == nil && !e.IP.IsValid() {
			t.Fatalf("Lookup(%q) gave no endpoint and no error", s)
		}
	})
}
