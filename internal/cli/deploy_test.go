package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
)

const deployDir = "../../deploy"

// TestDeployPassesScan holds kubeguard's own manifests to its own scan at
// the restricted level: exit 0 and no unsuppressed finding of high
// severity or more.
func TestDeployPassesScan(t *testing.T) {
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"scan", deployDir, "--level", "restricted", "--fail-on", "high", "-o", "json"}, IO{Stdout: &out, Stderr: &errw})
	if code != ExitOK {
		t.Fatalf("kubeguard scan deploy/ exit %d\n%s", code, errw.String())
	}
	var r struct {
		Objects  []json.RawMessage `json:"objects"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Objects) < 14 {
		t.Errorf("scanned %d objects; deploy/ has more", len(r.Objects))
	}
	for _, f := range r.Findings {
		if f.Suppressed == nil && f.Severity >= finding.High {
			t.Errorf("%s %s: %s %s at %s:%d", f.Severity, f.CheckID, f.Object.Kind, f.Object.Name, f.Location.File, f.Location.Line)
		}
	}
}

// decodeDocs decodes every document of a deploy file whose kind is kind.
func decodeDocs[T any](t *testing.T, file, kind string) []T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	for _, d := range manifest.Split(data) {
		var h struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal(d.Data, &h); err != nil {
			t.Fatalf("%s:%d: %v", file, d.Line, err)
		}
		if h.Kind != kind {
			continue
		}
		var v T
		if err := yaml.UnmarshalStrict(d.Data, &v); err != nil {
			t.Fatalf("%s:%d: %v", file, d.Line, err)
		}
		out = append(out, v)
	}
	return out
}

func TestDeployManifests(t *testing.T) {
	t.Run("kustomization lists every manifest", func(t *testing.T) {
		var k struct {
			Resources []string `json:"resources"`
		}
		b, err := os.ReadFile(filepath.Join(deployDir, "kustomization.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, &k); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(deployDir, "*.yaml"))
		var want []string
		for _, f := range files {
			if base := filepath.Base(f); base != "kustomization.yaml" {
				want = append(want, base)
			}
		}
		got := slices.Clone(k.Resources)
		slices.Sort(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("resources (-files +listed):\n%s", d)
		}
	})
	t.Run("least-privilege RBAC", func(t *testing.T) {
		roles := decodeDocs[rbacv1.ClusterRole](t, "rbac.yaml", "ClusterRole")
		if len(roles) != 1 {
			t.Fatalf("%d ClusterRoles", len(roles))
		}
		want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces", "pods"}, Verbs: []string{"get", "list", "watch"}}}
		if d := cmp.Diff(want, roles[0].Rules); d != "" {
			t.Errorf("rules (-want +got):\n%s", d)
		}
	})
	t.Run("deployment", func(t *testing.T) {
		ds := decodeDocs[appsv1.Deployment](t, "deployment.yaml", "Deployment")
		if len(ds) != 1 {
			t.Fatalf("%d Deployments", len(ds))
		}
		d := ds[0]
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
			t.Errorf("replicas %v, want 2", d.Spec.Replicas)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Error("probes must be /readyz and /healthz")
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Error("resources: cpu request and memory limit required")
		}
		if !slices.Contains(c.Args, "--cert=/tls/tls.crt") || !slices.Contains(c.Args, "--config=/etc/kubeguard/kubeguard.yaml") {
			t.Errorf("args %q", c.Args)
		}
		// The memory bounds are tied to the container's limit: the soft
		// limit under it, the in-flight budget an eighth of it, at least
		// one review.
		limit := c.Resources.Limits.Memory().Value()
		var memlimit string
		for _, e := range c.Env {
			if e.Name == "GOMEMLIMIT" {
				memlimit = e.Value
			}
		}
		soft, err := resource.ParseQuantity(strings.TrimSuffix(memlimit, "B"))
		if err != nil || soft.Value() > limit*9/10 {
			t.Errorf("GOMEMLIMIT %q: want at most nine tenths of the memory limit %d", memlimit, limit)
		}
		flagValue := func(name string) int64 {
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						t.Errorf("%s: %v", a, err)
					}
					return n
				}
			}
			t.Errorf("args lack --%s", name)
			return 0
		}
		inflight, body := flagValue("max-inflight-bytes"), flagValue("max-body-bytes")
		if inflight > limit/8 || inflight < body || body <= 0 {
			t.Errorf("--max-inflight-bytes=%d, --max-body-bytes=%d: want body <= in-flight <= limit/8 (%d)", inflight, body, limit/8)
		}
		for _, m := range c.VolumeMounts {
			if m.SubPath != "" {
				t.Errorf("volume %s mounted with subPath: updates would never reach the pod", m.Name)
			}
		}
	})
	t.Run("network policy", func(t *testing.T) {
		var found bool
		for _, np := range decodeDocs[networkingv1.NetworkPolicy](t, "policies.yaml", "NetworkPolicy") {
			if np.Name != "kubeguard-webhook" {
				continue
			}
			found = true
			for _, r := range np.Spec.Egress {
				dns := slices.ContainsFunc(r.Ports, func(p networkingv1.NetworkPolicyPort) bool { return p.Port != nil && p.Port.IntValue() == 53 })
				if dns && (len(r.To) == 0 || slices.ContainsFunc(r.To, func(p networkingv1.NetworkPolicyPeer) bool { return p.PodSelector == nil || p.NamespaceSelector == nil })) {
					t.Errorf("DNS egress reaches more than the cluster DNS pods: %+v", r.To)
				}
			}
			for _, r := range np.Spec.Ingress {
				if len(r.Ports) != 1 || r.Ports[0].Port.IntValue() != 8443 {
					t.Errorf("ingress on %+v, want 8443 only", r.Ports)
				}
			}
		}
		if !found {
			t.Error("no kubeguard-webhook NetworkPolicy")
		}
	})
	t.Run("webhook configurations", func(t *testing.T) {
		ws := decodeDocs[admissionregistrationv1.ValidatingWebhookConfiguration](t, "validatingwebhookconfiguration.yaml", "ValidatingWebhookConfiguration")
		if len(ws) != 2 {
			t.Fatalf("%d configurations, want 2", len(ws))
		}
		policies := map[string]admissionregistrationv1.FailurePolicyType{}
		for _, cfg := range ws {
			for _, w := range cfg.Webhooks {
				var resources []string
				for _, r := range w.Rules {
					resources = append(resources, r.Resources...)
				}
				policies[strings.Join(resources, ",")] = *w.FailurePolicy
				if w.TimeoutSeconds == nil || *w.TimeoutSeconds > 5 {
					t.Errorf("%s: timeout %v, want at most 5s", w.Name, w.TimeoutSeconds)
				}
				sel := w.NamespaceSelector.MatchExpressions
				if len(sel) != 1 || sel[0].Key != "kubernetes.io/metadata.name" || sel[0].Operator != "NotIn" ||
					!slices.Contains(sel[0].Values, "kubeguard-system") || !slices.Contains(sel[0].Values, "kube-system") {
					t.Errorf("%s: namespaceSelector %v must exclude kubeguard-system and kube-system", w.Name, sel)
				}
				if w.ClientConfig.Service == nil || w.ClientConfig.Service.Path == nil || *w.ClientConfig.Service.Path != "/validate" {
					t.Errorf("%s: clientConfig must call the Service at /validate", w.Name)
				}
				if *w.SideEffects != admissionregistrationv1.SideEffectClassNone || !slices.Equal(w.AdmissionReviewVersions, []string{"v1"}) {
					t.Errorf("%s: sideEffects None and admissionReviewVersions [v1] required", w.Name)
				}
			}
		}
		want := map[string]admissionregistrationv1.FailurePolicyType{
			"pods,pods/ephemeralcontainers,namespaces":                                                          admissionregistrationv1.Fail,
			"podtemplates,replicationcontrollers,daemonsets,deployments,replicasets,statefulsets,cronjobs,jobs": admissionregistrationv1.Ignore,
		}
		if d := cmp.Diff(want, policies); d != "" {
			t.Errorf("failure policies (-want +got):\n%s", d)
		}
	})
}

// TestScannerNodesRoleOptIn: the scanner's RBAC grants nothing on nodes, so
// kubeguard cluster --nodes is opt-in; the extra role is outside the
// kustomization, grants exactly what --nodes asks (list nodes, get
// nodes/proxy), and kubeguard's own RBAC analysis reports it as critical.
func TestScannerNodesRoleOptIn(t *testing.T) {
	kust, err := os.ReadFile(filepath.Join(deployDir, "scanner/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(kust), "nodes-rbac.yaml") {
		t.Error("deploy/scanner/kustomization.yaml installs the nodes/proxy role by default")
	}
	for _, r := range decodeDocs[rbacv1.ClusterRole](t, "scanner/rbac.yaml", "ClusterRole") {
		for _, rule := range r.Rules {
			for _, res := range rule.Resources {
				if strings.HasPrefix(res, "nodes") || res == "*" {
					t.Errorf("ClusterRole %s grants %v on %s by default", r.Name, rule.Verbs, res)
				}
			}
		}
	}
	roles := decodeDocs[rbacv1.ClusterRole](t, "scanner/nodes-rbac.yaml", "ClusterRole")
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}},
		{APIGroups: []string{""}, Resources: []string{"nodes/proxy"}, Verbs: []string{"get"}},
	}
	if len(roles) != 1 || !reflect.DeepEqual(roles[0].Rules, want) {
		t.Errorf("nodes-rbac.yaml roles %+v, want one with %+v", roles, want)
	}
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"rbac", "risks", "-f", filepath.Join(deployDir, "scanner/nodes-rbac.yaml"), "-o", "json"}, IO{Stdout: &out, Stderr: &errw})
	if code != ExitFindings || !strings.Contains(out.String(), `"checkID": "rbac-nodes-proxy"`) {
		t.Errorf("kubeguard rbac risks on the nodes role: exit %d, no rbac-nodes-proxy finding\n%s%s", code, out.String(), errw.String())
	}
}
