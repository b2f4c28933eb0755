package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNetpolCanReachFixtures runs every expectation of the engine's
// fixtures through the command: the first word and the exit status.
func TestNetpolCanReachFixtures(t *testing.T) {
	files, _ := filepath.Glob("../netpol/testdata/*.yaml")
	n := 0
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			rest, ok := strings.CutPrefix(sc.Text(), "# want: ")
			if !ok {
				continue
			}
			fs := strings.Fields(rest)
			n++
			code, stdout, stderr := runCLI([]string{"netpol", "can-reach", fs[0], fs[1], fs[2], "-f", file}, "")
			want := map[string]int{"yes": ExitOK, "no": ExitFindings, "error": ExitError}[fs[3]]
			if code != want {
				t.Errorf("%s:%d: exit %d, want %d\n%s%s", file, line, code, want, stdout, stderr)
			}
			if fs[3] != "error" && !strings.HasPrefix(stdout, fs[3]+": ") {
				t.Errorf("%s:%d: output does not start with %q:\n%s", file, line, fs[3], stdout)
			}
		}
		f.Close()
	}
	if n < 100 {
		t.Fatalf("only %d expectations", n)
	}
}

func TestNetpolCanReachExplains(t *testing.T) {
	file := "../netpol/testdata/ipblock.yaml"
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"allowed by a rule, with its place", []string{"192.168.5.5", "x/a", "80"}, ExitOK, []string{
			"yes: 192.168.5.5 may open connections to x/a on TCP/80\n",
			"egress of 192.168.5.5: allowed (outside the cluster",
			"by NetworkPolicy x/a-ingress spec.ingress[0] at " + file + ":17:5",
		}},
		{"denied, every policy says why", []string{"x/a", "x/c", "443"}, ExitFindings, []string{
			"no: x/a may not open connections to x/c on TCP/443\n",
			"egress of x/a: denied (isolated by 1 NetworkPolicies",
			"spec.egress[0] (" + file + ":30:5): no peer matches x/c",
		}},
		{"pod IP matched by ipBlock is called implementation-defined", []string{"x/a", "x/b", "443/tcp"}, ExitOK, []string{
			"yes: x/a", "implementation-defined",
		}},
		{"isolated but not for this direction", []string{"x/b", "x/c", "80"}, ExitOK, []string{
			"egress of x/b: allowed (not isolated",
		}},
		{"bad port", []string{"x/a", "x/b", "80/ICMP"}, ExitError, nil},
		{"unknown pod", []string{"x/zz", "x/b", "80"}, ExitError, nil},
		{"two outside addresses", []string{"1.2.3.4", "5.6.7.8", "80"}, ExitError, nil},
		{"too few arguments", []string{"x/a", "x/b"}, ExitError, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"netpol", "can-reach", "-f", file}, tc.args...), "")
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.out {
				if !strings.Contains(stdout, s) {
					t.Errorf("output lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
}

func TestNetpolCanReachJSON(t *testing.T) {
	code, stdout, _ := runCLI([]string{"netpol", "can-reach", "x/c", "x/a", "81", "-o", "json", "-f", "../netpol/testdata/union.yaml"}, "")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	var v verdictJSON
	if err := json.Unmarshal([]byte(stdout), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Allowed || v.Ingress.By[0].Policy != "x/a-from-c" || v.Ingress.By[0].Rule != "spec.ingress[0]" || v.Ingress.By[0].Location.Line != 22 {
		t.Errorf("got %+v", v)
	}
}

// TestNetpolInvalidPolicyIsAnError: a policy the API server would refuse
// makes the answer an error, whatever the answer.
func TestNetpolInvalidPolicyIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.yaml")
	os.WriteFile(path, []byte(`apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{}]}]
`), 0o644)
	code, _, stderr := runCLI([]string{"netpol", "can-reach", "x/a", "x/a", "80", "-f", path}, "")
	if code != ExitError || !strings.Contains(stderr, path+":6:1: NetworkPolicy x/bad: spec.ingress[0].from[0]: must specify a peer") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestNetpolUnknownFieldIsAnError: a misspelt peer selector is refused
// at its line, as kubectl apply's strict field validation refuses it,
// rather than read as a peer without selectors.
func TestNetpolUnknownFieldIsAnError(t *testing.T) {
	path := writeNetpolFile(t, "in.yaml", `apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from:
    - namespaceSelectors: {matchLabels: {team: ops}}
`)
	code, _, stderr := runCLI([]string{"netpol", "can-reach", "x/a", "x/a", "80", "-f", path}, "")
	want := path + ":13:7: NetworkPolicy/x/typo: spec.ingress[0].from[0].namespaceSelectors: unknown field"
	if code != ExitError || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, want)
	}
}

const matrixYAML = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}}
- {apiVersion: apps/v1, kind: Deployment, metadata: {name: b, namespace: x}, spec: {template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c, image: i}]}}}}
- {apiVersion: v1, kind: Pod, metadata: {name: h, namespace: x}, spec: {hostNetwork: true, containers: [{name: c, image: i}]}}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: a, namespace: x}
  spec:
    podSelector: {matchLabels: {app: a}}
    ingress: [{from: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: http}, {port: 53, protocol: UDP}]}]
    egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]
`

func writeNetpolFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNetpolMatrix(t *testing.T) {
	file := writeNetpolFile(t, "m.yaml", matrixYAML)
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{"text", []string{
			"FROM \\ TO       1                2    3\n",
			"x/a             -                -    all\n",
			"x/deployment/b  TCP:8080 UDP:53  all  all\n",
			"outside         -                all\n",
			"1  x/a\n", "3  outside\n",
			"out of scope (host network",
		}},
		{"json", []string{`"endpoints": ["x/a", "x/deployment/b", "outside"]`, `{"from": "x/deployment/b", "to": "x/a", "ports": "TCP:8080 UDP:53"}`, `"outOfScope": ["x/h"]`}},
		{"csv", []string{"from,to,ports\n", "x/a,x/a,none\n", "x/deployment/b,x/a,TCP:8080 UDP:53\n", "outside,x/a,none\n", "x/a,outside,all\n"}},
		{"dot", []string{"digraph netpol {", `n1 -> n0 [label="TCP:8080 UDP:53"];`, `n2 [label="outside"];`}},
		{"mermaid", []string{"flowchart LR\n", `n1 -->|"TCP:8080 UDP:53"| n0`}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			code, stdout, stderr := runCLI([]string{"netpol", "matrix", "-o", tc.format, "-f", file}, "")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, s := range tc.want {
				if !strings.Contains(stdout, s) {
					t.Errorf("output lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
	code, stdout, _ := runCLI([]string{"netpol", "matrix", "-o", "json", "-f", file}, "")
	var out struct {
		Endpoints   []string
		Connections []struct{ From, To, Ports string }
	}
	if err := json.Unmarshal([]byte(stdout), &out); code != ExitOK || err != nil || len(out.Connections) != 5 {
		t.Errorf("exit %d, %v, %+v", code, err, out)
	}
}

func TestNetpolExposure(t *testing.T) {
	file := writeNetpolFile(t, "m.yaml", matrixYAML+`- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: typo, namespace: x}
  spec:
    podSelector: {matchLabels: {app: bb}}
`)
	code, stdout, stderr := runCLI([]string{"netpol", "exposure", "-f", file}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{
		"x/a\n  from every pod of every namespace:  -\n",
		"  from some address outside:          -\n",
		"  to the metadata address 169.254.169.254: all  <- can reach the cloud metadata service",
		"x/deployment/b\n  from every pod of every namespace:  all\n",
		"NetworkPolicies that select no workload of the input (a label typo, or pods defined elsewhere):\n  x/typo at " + file + ":",
	} {
		if !strings.Contains(stdout, s) {
			t.Errorf("output lacks %q:\n%s", s, stdout)
		}
	}
	if strings.Contains(stdout, "  x/a at ") {
		t.Errorf("x/a selects a pod, yet is listed as idle:\n%s", stdout)
	}
}

func TestNetpolDiff(t *testing.T) {
	old := writeNetpolFile(t, "old.yaml", matrixYAML)
	new := writeNetpolFile(t, "new.yaml", strings.Replace(matrixYAML, "{port: 53, protocol: UDP}", "{port: 54, protocol: UDP}", 1))
	code, stdout, stderr := runCLI([]string{"netpol", "diff", old, new}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := "+ x/deployment/b -> x/a: UDP:54\n- x/deployment/b -> x/a: UDP:53\n"; stdout != want {
		t.Errorf("got %q, want %q", stdout, want)
	}
	code, stdout, _ = runCLI([]string{"netpol", "diff", old, old}, "")
	if code != ExitOK || stdout != "no change in connectivity\n" {
		t.Errorf("exit %d, %q", code, stdout)
	}
}
