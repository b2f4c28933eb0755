package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/cluster/clustertest"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
	"sigs.k8s.io/yaml"
)

// secretValue is the fixture Secret's data, and its base64 form: neither
// may appear in any output.
var secretValues = []string{"hunter2-s3cr3t", "aHVudGVyMi1zM2NyM3Q="}

func fakeCluster(t *testing.T) *clustertest.Server {
	t.Helper()
	b, err := os.ReadFile("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := clustertest.New(t, clustertest.Objects(t, string(b))...)
	s.Forbid("ingresses")
	return s
}

func runFake(t *testing.T, s *clustertest.Server, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"cluster", "--kubeconfig", s.Kubeconfig}, args...), IO{Stdout: &stdout, Stderr: &stderr})
	for _, v := range secretValues {
		if strings.Contains(stdout.String()+stderr.String(), v) {
			t.Errorf("output holds the Secret's value %q", v)
		}
	}
	return code, stdout.String(), stderr.String()
}

func TestClusterAttribution(t *testing.T) {
	s := fakeCluster(t)
	code, out, stderr := runFake(t, s, "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, stderr)
	}
	if !strings.Contains(stderr, "cannot list ingresses.networking.k8s.io (forbidden)") {
		t.Errorf("no warning for the forbidden ingresses; stderr:\n%s", stderr)
	}
	var r struct {
		Findings []finding.Finding `json:"findings"`
		Objects  []report.Object   `json:"objects"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	checked := map[string]bool{}
	for _, o := range r.Objects {
		checked[o.Ref.String()] = true
	}
	for _, tc := range []struct {
		ref  string
		want bool
	}{
		{"Deployment/apps/web", true},
		{"ReplicaSet/apps/web-6d4b", false},
		{"Pod/apps/web-6d4b-a", false},
		{"Pod/apps/debug", true},
		{"CronJob/apps/backup", true},
		{"Job/apps/backup-2901", false},
		{"Pod/apps/backup-2901-x", false},
		{"Pod/secure/api", true},
		{"Namespace/apps", true},
		{"ClusterRoleBinding/web-admin", true},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			if checked[tc.ref] != tc.want {
				t.Errorf("checked = %v, want %v", checked[tc.ref], tc.want)
			}
			has := slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.Object.String() == tc.ref })
			if !tc.want && has {
				t.Errorf("findings reported on %s, which its owner stands for", tc.ref)
			}
		})
	}
	var privileged, token *finding.Finding
	for i, f := range r.Findings {
		if f.Object.String() != "Deployment/apps/web" {
			continue
		}
		switch f.CheckID {
		case "pss-privileged":
			privileged = &r.Findings[i]
		case "rbac-privileged-token-workload":
			token = &r.Findings[i]
		}
		if f.Location != (finding.Location{}) {
			t.Errorf("%s: live finding has a location %v", f.CheckID, f.Location)
		}
	}
	if privileged == nil || !strings.Contains(privileged.Detail, "3 running pods") {
		t.Errorf("pss-privileged on the Deployment with its 3 pods: got %+v", privileged)
	}
	if token == nil || !strings.Contains(token.Detail, "3 running pods") || !strings.Contains(token.Reason, "ServiceAccount apps/web") {
		t.Errorf("rbac-privileged-token-workload on the Deployment with its pods: got %+v", token)
	}
	if !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool {
		return f.CheckID == "rbac-cluster-admin-binding" && f.Object.Name == "web-admin"
	}) {
		t.Error("no rbac-cluster-admin-binding on ClusterRoleBinding/web-admin")
	}
}

// TestClusterSecretsMetadataOnly audits every request the scan makes:
// reads only, every list paginated, and Secrets only ever listed as
// PartialObjectMetadata.
func TestClusterSecretsMetadataOnly(t *testing.T) {
	s := fakeCluster(t)
	if code, _, stderr := runFake(t, s, "-o", "json"); code == ExitError {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	reqs := s.Requests()
	secrets := 0
	for _, r := range reqs {
		if r.Method != "GET" {
			t.Errorf("%s %s: the scan must only read", r.Method, r.Path)
		}
		if !strings.Contains(r.Query, "limit=500") {
			t.Errorf("GET %s?%s: not paginated", r.Path, r.Query)
		}
		if strings.HasSuffix(r.Path, "/secrets") || strings.Contains(r.Path, "/secrets/") {
			secrets++
			if !strings.HasPrefix(r.Accept, "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1") ||
				strings.Contains(r.Accept, ",") {
				t.Errorf("GET %s?%s with Accept %q: Secrets must be listed as metadata only", r.Path, r.Query, r.Accept)
			}
		}
	}
	if secrets != 2 {
		t.Errorf("%d Secret lists, want 2 (all, and the token Secrets)", secrets)
	}
}

func TestClusterReadiness(t *testing.T) {
	s := fakeCluster(t)
	code, out, stderr := runFake(t, s, "--readiness", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var got struct {
		Namespaces []run.NamespaceReadiness `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	ref := func(kind, name string) finding.ObjectRef {
		v := map[string]string{"Deployment": "apps/v1", "CronJob": "batch/v1", "Pod": "v1"}[kind]
		return finding.ObjectRef{APIVersion: v, Kind: kind, Namespace: "apps", Name: name}
	}
	want := []run.NamespaceReadiness{
		{
			Namespace: "apps", Pods: 5, Level: "privileged", Version: "latest",
			Baseline: []run.Violation{
				{Owner: ref("Deployment", "web"), Pods: 3, Checks: []string{"privileged"}},
				{Owner: ref("Pod", "debug"), Pods: 1, Checks: []string{"hostNamespaces"}},
			},
			Restricted: []run.Violation{
				{Owner: ref("CronJob", "backup"), Pods: 1, Checks: []string{"allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"}},
				{Owner: ref("Deployment", "web"), Pods: 3, Checks: []string{"allowPrivilegeEscalation", "capabilities_restricted", "privileged", "runAsNonRoot", "seccompProfile_restricted"}},
				{Owner: ref("Pod", "debug"), Pods: 1, Checks: []string{"allowPrivilegeEscalation", "capabilities_restricted", "hostNamespaces", "runAsNonRoot", "seccompProfile_restricted"}},
			},
		},
		{Namespace: "secure", Pods: 1, Level: "restricted", Version: "latest", Enforce: "restricted", Baseline: []run.Violation{}, Restricted: []run.Violation{}},
	}
	if d := cmp.Diff(want, got.Namespaces); d != "" {
		t.Errorf("readiness (-want +got):\n%s", d)
	}
	_, text, _ := runFake(t, s, "--readiness")
	for _, line := range []string{"Deployment/web ×3 [privileged]", "secure     1     restricted"} {
		if !strings.Contains(text, line) {
			t.Errorf("text readiness lacks %q:\n%s", line, text)
		}
	}
}

func TestClusterPolicyReport(t *testing.T) {
	s := fakeCluster(t)
	code, out, stderr := runFake(t, s, "-o", "policyreport")
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var kinds []string
	for _, doc := range strings.Split(out, "\n---\n") {
		var pr report.PolicyReport
		if err := yaml.UnmarshalStrict([]byte(doc), &pr); err != nil {
			t.Fatalf("report: %v\n%s", err, doc)
		}
		if pr.APIVersion != "wgpolicyk8s.io/v1alpha2" || pr.Metadata.Name != "kubeguard" {
			t.Errorf("report %s %s/%s", pr.APIVersion, pr.Metadata.Namespace, pr.Metadata.Name)
		}
		if pr.Summary.Fail != len(pr.Results) {
			t.Errorf("%s %s: summary fail %d, %d results", pr.Kind, pr.Metadata.Namespace, pr.Summary.Fail, len(pr.Results))
		}
		kinds = append(kinds, pr.Kind+" "+pr.Metadata.Namespace)
	}
	if d := cmp.Diff([]string{"ClusterPolicyReport ", "PolicyReport apps", "PolicyReport secure"}, kinds); d != "" {
		t.Errorf("reports (-want +got):\n%s", d)
	}
	// One namespace's scan replaces only that namespace's report.
	_, out, _ = runFake(t, s, "-o", "policyreport", "-n", "apps")
	if n := strings.Count(out, "\nkind: "); n != 1 || !strings.Contains(out, "\nkind: PolicyReport\n") || !strings.Contains(out, "  namespace: apps\n") {
		t.Errorf("-n apps: want the apps report alone, got:\n%.400s", out)
	}
}

func TestClusterNamespace(t *testing.T) {
	s := fakeCluster(t)
	code, out, stderr := runFake(t, s, "-n", "secure", "-o", "json")
	if code == ExitError {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var r struct {
		Objects []report.Object `json:"objects"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, o := range r.Objects {
		if o.Ref.Namespace != "secure" && o.Ref.String() != "Namespace/secure" {
			t.Errorf("-n secure checked %s", o.Ref)
		}
	}
	for _, q := range s.Requests() {
		if strings.Contains(q.Path, "/namespaces/apps/") {
			t.Errorf("-n secure listed %s", q.Path)
		}
	}
}

func TestRBACLive(t *testing.T) {
	s := fakeCluster(t)
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"rbac", "can-i", "get", "secrets", "--as-sa", "apps:web", "-n", "kube-system", "--kubeconfig", s.Kubeconfig},
		IO{Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK || !strings.HasPrefix(stdout.String(), "yes") || !strings.Contains(stdout.String(), "ClusterRoleBinding/web-admin") {
		t.Errorf("can-i: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	code = Run(context.Background(), []string{"rbac", "paths", "--cluster", "--kubeconfig", s.Kubeconfig}, IO{Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK || !strings.Contains(stdout.String(), "ServiceAccount apps/web") {
		t.Errorf("paths: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// TestScannerManifests holds deploy/scanner to the restricted level: the
// scanner's own manifests pass kubeguard scan with no finding.
func TestScannerManifests(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"scan", "--level", "restricted", "--fail-on", "info", "../../deploy/scanner"}, IO{Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK || !strings.Contains(stdout.String(), "no findings") {
		t.Errorf("exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, on: true}
	p.update(cluster.Pods, 500)
	p.update(cluster.Pods, 731)
	p.done()
	if want := "\r\033[Kkubeguard: listing pods: 500\r\033[Kkubeguard: listing pods: 731\r\033[K"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	off := newProgress(&b) // not a terminal
	off.update(cluster.Pods, 1)
	off.done()
	if b.Len() != 0 {
		t.Errorf("progress written to a non-terminal: %q", b.String())
	}
}

// TestClusterFormats writes every format of a live scan: none needs a file
// position.
func TestClusterFormats(t *testing.T) {
	s := fakeCluster(t)
	for _, format := range []string{"text", "json", "sarif", "junit", "policyreport"} {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := runFake(t, s, "-o", format)
			if code != ExitFindings || !strings.Contains(out, "pss-privileged") {
				t.Errorf("exit %d, %d bytes\n%s", code, len(out), stderr)
			}
		})
	}
	if code, _, _ := runFake(t, s, "-o", "yaml"); code != ExitError {
		t.Errorf("-o yaml: exit %d, want %d", code, ExitError)
	}
}

func TestClusterNothingReadable(t *testing.T) {
	s := clustertest.New(t)
	for _, r := range []string{"namespaces", "pods", "serviceaccounts", "services", "resourcequotas", "limitranges",
		"replicationcontrollers", "secrets", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs",
		"cronjobs", "networkpolicies", "ingresses", "roles", "clusterroles", "rolebindings", "clusterrolebindings",
		"customresourcedefinitions"} {
		s.Forbid(r)
	}
	code, _, stderr := runFake(t, s)
	if code != ExitError || !strings.Contains(stderr, "nothing could be read") {
		t.Errorf("exit %d, want %d\n%s", code, ExitError, stderr)
	}
}

// TestClusterExpiredContinue: a list that outlasts the API server's
// snapshot goes on with the token the 410 answer carries; every object is
// still scanned, and the scan says the list was not consistent.
func TestClusterExpiredContinue(t *testing.T) {
	s := fakeCluster(t)
	s.Generate("pods", clustertest.Generated{N: 1200, Make: func(i int) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": fmt.Sprintf("p-%04d", i), "namespace": "apps", "uid": fmt.Sprint("pod-", i)},
			"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:1.27"}}}}
	}})
	s.Expire("pods")
	code, out, stderr := runFake(t, s, "-o", "json")
	if code == ExitError {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "listing pods took longer than the API server keeps") {
		t.Errorf("no warning about the inconsistent list:\n%s", stderr)
	}
	r := decodeReport(t, out)
	pods := 0
	for _, o := range r.Objects {
		if o.Object.Kind == "Pod" && strings.HasPrefix(o.Object.Name, "p-") {
			pods++
		}
	}
	if pods != 1200 {
		t.Errorf("%d of the 1,200 generated pods scanned", pods)
	}
	var gone int
	for _, q := range s.Requests() {
		if strings.HasSuffix(q.Path, "/pods") && strings.Contains(q.Query, "continue=") {
			gone++
		}
	}
	if gone < 3 {
		t.Errorf("%d continued lists of pods, want the expired one, its retry and the rest", gone)
	}
}
