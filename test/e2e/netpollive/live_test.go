// Package netpollive holds kubeguard netpol to a real kube-apiserver: the
// server decides which NetworkPolicies are valid and how their policy types
// default, and kubeguard netpol --cluster reads what it stores.
package netpollive

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var srv *apiserver.Server

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunTests(m, apiserver.Options{}, &srv))
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	_, err := srv.Client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// TestValidationAndDefaults sends every NetworkPolicy of the engine's
// fixtures to the API server (server-side dry run): the server must refuse
// exactly those kubeguard calls invalid, and default the policy types of
// the others as kubeguard does.
func TestValidationAndDefaults(t *testing.T) {
	files, _ := filepath.Glob("../../../internal/netpol/testdata/*.yaml")
	if len(files) < 10 {
		t.Fatalf("found %d fixtures", len(files))
	}
	checked, refused := 0, 0
	for _, file := range files {
		var ps []*netpol.Policy
		src := &manifest.Source{Paths: []string{file}}
		manifest.Ordered(context.Background(), src, 1, func(u manifest.Unit) []*netpol.Policy {
			var out []*netpol.Policy
			for _, o := range u.Objects {
				if d := netpol.Decode(o); d.Policy != nil {
					out = append(out, d.Policy)
				}
			}
			return out
		}, func(_ manifest.Unit, p []*netpol.Policy) { ps = append(ps, p...) })
		for _, p := range ps {
			ensureNamespace(t, p.Namespace)
			_, errs := netpol.Build(nil, nil, []*netpol.Policy{p})
			np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}, Spec: p.Spec}
			got, err := srv.Client.NetworkingV1().NetworkPolicies(p.Namespace).Create(t.Context(), np, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			checked++
			switch {
			case err != nil && !apierrors.IsInvalid(err):
				t.Fatalf("%s %s: %v", file, p.Ref(), err)
			case err != nil && len(errs) == 0:
				t.Errorf("%s %s: the API server refuses it (%v), kubeguard accepts it", file, p.Ref(), err)
			case err == nil && len(errs) > 0:
				t.Errorf("%s %s: the API server accepts it, kubeguard refuses it: %v", file, p.Ref(), errs)
			case err != nil:
				refused++
			default:
				ingress, egress := p.Isolates()
				types := got.Spec.PolicyTypes
				if ingress != slices.Contains(types, networkingv1.PolicyTypeIngress) || egress != slices.Contains(types, networkingv1.PolicyTypeEgress) {
					t.Errorf("%s %s: the API server stores policyTypes %v, kubeguard isolates ingress %v, egress %v", file, p.Ref(), types, ingress, egress)
				}
			}
		}
	}
	t.Logf("%d policies, %d refused by both", checked, refused)
	if refused < 10 || checked-refused < 30 {
		t.Errorf("too few policies of either kind")
	}
}

func kubeconfig(t *testing.T) string {
	t.Helper()
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n" +
		"    server: " + srv.URL + "\n    certificate-authority-data: " + base64.StdEncoding.EncodeToString(srv.CAData) + "\n" +
		"users:\n- name: e2e\n  user:\n    token: " + srv.AdminToken + "\n" +
		"contexts:\n- name: e2e\n  context: {cluster: e2e, user: e2e}\ncurrent-context: e2e\n"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

// TestLive reads Namespaces, Pods (with the addresses their status
// reports) and NetworkPolicies from the server, and answers from them.
func TestLive(t *testing.T) {
	ctx := t.Context()
	a := srv.Namespace(t, "np-a", map[string]string{"team": "a"})
	b := srv.Namespace(t, "np-b", map[string]string{"team": "b"})
	pod := func(ns, name, ip string, labels map[string]string, ports ...corev1.ContainerPort) {
		p, err := srv.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example/app@sha256:" + strings.Repeat("0", 64), Ports: ports}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// No kubelet runs: report the pod running with its address, as
		// one would.
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
		if _, err := srv.Client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod(a.Name, "web", "10.1.0.5", map[string]string{"app": "web"}, corev1.ContainerPort{Name: "http", ContainerPort: 8080})
	pod(a.Name, "db", "10.1.0.6", map[string]string{"app": "db"})
	pod(b.Name, "client", "10.2.0.7", map[string]string{"app": "client"})
	var docs []networkingv1.NetworkPolicy
	for _, y := range []string{`
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}], ports: [{port: http}]}]`, `
metadata: {name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{ipBlock: {cidr: 10.2.0.0/16}}]}]
  egress: []`} {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(y), &np); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, np)
	}
	for i := range docs {
		if _, err := srv.Client.NetworkingV1().NetworkPolicies(a.Name).Create(ctx, &docs[i], metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	k := kubeconfig(t)
	for _, tc := range []struct {
		src, dst, port string
		code           int
		out            []string
	}{
		{b.Name + "/client", a.Name + "/web", "8080", cli.ExitOK, []string{"yes: ", "by NetworkPolicy " + a.Name + "/web spec.ingress[0]"}},
		{b.Name + "/client", a.Name + "/web", "80", cli.ExitFindings, []string{"no: ", "allows only ports TCP:8080"}},
		{a.Name + "/db", a.Name + "/web", "8080", cli.ExitFindings, []string{"no: "}},
		{b.Name + "/client", a.Name + "/db", "5432", cli.ExitOK, []string{"yes: ", "implementation-defined"}},
		{"10.2.9.9", a.Name + "/db", "5432", cli.ExitOK, []string{"yes: "}},
		{"10.3.0.1", a.Name + "/db", "5432", cli.ExitFindings, []string{"no: "}},
		{a.Name + "/db", "8.8.8.8", "53/UDP", cli.ExitOK, []string{"egress of " + a.Name + "/db: allowed (not isolated"}},
	} {
		code, out, stderr := run(t, "netpol", "can-reach", "--kubeconfig", k, tc.src, tc.dst, tc.port)
		if code != tc.code {
			t.Errorf("can-reach %s %s %s: exit %d, want %d\n%s%s", tc.src, tc.dst, tc.port, code, tc.code, out, stderr)
		}
		for _, s := range tc.out {
			if !strings.Contains(out, s) {
				t.Errorf("can-reach %s %s %s: output lacks %q:\n%s", tc.src, tc.dst, tc.port, s, out)
			}
		}
	}
	code, out, stderr := run(t, "netpol", "matrix", "--kubeconfig", k, "-o", "csv")
	if code != cli.ExitOK || !strings.Contains(out, b.Name+"/client,"+a.Name+"/web,TCP:8080\n") {
		t.Errorf("matrix: exit %d\n%s%s", code, out, stderr)
	}
}
