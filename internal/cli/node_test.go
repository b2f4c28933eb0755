package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

func runNodeJSON(t *testing.T, args ...string) (int, []finding.Finding, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := Run(context.Background(), append([]string{"node", "-o", "json"}, args...), IO{Stdout: &out, Stderr: &errw})
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errw.String())
	}
	return code, r.Findings, errw.String()
}

func TestNodeCommand(t *testing.T) {
	const cases = "../node/testdata/cases/"
	tests := []struct {
		name      string
		args      []string
		code      int
		want      []string // check IDs that must be reported
		wantNot   []string
		stderrHas string
	}{
		{name: "kubeadm defaults pass the default gate", args: []string{"--root", cases + "kubeadm/root"}, code: ExitOK,
			want: []string{"apiserver-anonymous-auth", "encryption-secrets-plaintext", "kubelet-seccomp-default"}, wantNot: []string{"kubelet-anonymous-auth"}},
		{name: "insecure fails", args: []string{"--root", cases + "insecure/root"}, code: ExitFindings,
			want: []string{"apiserver-authorization-always-allow", "etcd-client-cert-auth", "kubelet-authorization-mode"}},
		{name: "fail-on critical still fails on critical", args: []string{"--root", cases + "insecure/root", "--fail-on", "critical"}, code: ExitFindings},
		{name: "identity first is plain text", args: []string{"--root", cases + "enc-identity-first/root", "--fail-on", "medium"}, code: ExitFindings,
			want: []string{"encryption-secrets-plaintext"}},
		{name: "kms v2 for secrets, identity for events passes", args: []string{copy0600(t, cases+"enc-kms-v2-events-identity/root/enc.yaml"), "--fail-on", "low"}, code: ExitOK,
			wantNot: []string{"encryption-secrets-plaintext"}},
		{name: "a configuration the API server refuses is an error", args: []string{cases + "enc-invalid/root/masked.yaml"}, code: ExitError,
			stderrHas: `masked by earlier rule "*.*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, fs, stderr := runNodeJSON(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			ids := map[string]bool{}
			for _, f := range fs {
				ids[f.CheckID] = true
			}
			for _, id := range tt.want {
				if !ids[id] {
					t.Errorf("no %s finding", id)
				}
			}
			for _, id := range tt.wantNot {
				if ids[id] {
					t.Errorf("unexpected %s finding", id)
				}
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderrHas)
			}
		})
	}
}

// TestNodeBaseline shows a baseline of a node's own report suppresses all
// of its findings, so the exit status turns to 0.
func TestNodeBaseline(t *testing.T) {
	const root = "../node/testdata/cases/insecure/root"
	var out, errw bytes.Buffer
	if code := Run(context.Background(), []string{"node", "--root", root, "-o", "json"}, IO{Stdout: &out, Stderr: &errw}); code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, errw.String())
	}
	base := t.TempDir() + "/baseline.json"
	if err := os.WriteFile(base, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, fs, stderr := runNodeJSON(t, "--root", root, "--baseline", base)
	if code != ExitOK {
		t.Errorf("exit %d with the baseline\n%s", code, stderr)
	}
	for _, f := range fs {
		if f.Suppressed == nil {
			t.Errorf("%s not suppressed", f.CheckID)
		}
	}
}

// copy0600 copies a file to a temporary one only its owner may read, as
// an EncryptionConfiguration must be.
func copy0600(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/enc.yaml"
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNodeConfig applies a .kubeguard.yaml to kubeguard node: a disabled
// check is not run, an exemption by kind and name marks its findings
// suppressed, and the remaining findings decide the exit status.
func TestNodeConfig(t *testing.T) {
	cfg := t.TempDir() + "/.kubeguard.yaml"
	text := `checks:
  disable: [kubelet-authorization-mode]
exemptions:
  - checks: [apiserver-authorization-always-allow, "etcd-*", "apiserver-*"]
    kind: Pod
    namespace: kube-system
    name: "*"
    reason: lab cluster, torn down nightly
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, fs, stderr := runNodeJSON(t, "--root", "../node/testdata/cases/insecure/root", "--config", cfg, "--fail-on", "critical")
	if code != ExitOK {
		t.Errorf("exit %d, want 0: the only critical findings are disabled or exempt\n%s", code, stderr)
	}
	exempt := 0
	for _, f := range fs {
		switch {
		case f.CheckID == "kubelet-authorization-mode":
			t.Error("disabled check ran")
		case f.Object.Kind == "Pod" && f.Suppressed == nil && (strings.HasPrefix(f.CheckID, "apiserver-") || strings.HasPrefix(f.CheckID, "etcd-")):
			t.Errorf("%s not exempt", f.CheckID)
		case f.Suppressed != nil:
			exempt++
			if f.Suppressed.Kind != "exemption" || f.Suppressed.Reason == "" {
				t.Errorf("%s suppressed as %+v", f.CheckID, f.Suppressed)
			}
		}
	}
	if exempt == 0 {
		t.Error("nothing exempt")
	}
}

// TestNodeLintsAuditPolicy: the audit policy the API server names is
// linted by the audit linter, its findings in kubeguard node's report.
func TestNodeLintsAuditPolicy(t *testing.T) {
	_, fs, stderr := runNodeJSON(t, "--root", "../node/testdata/cases/insecure/root")
	for _, f := range fs {
		if strings.HasPrefix(f.CheckID, "audit-policy-") {
			if f.Location.File != "/etc/kubernetes/audit-policy.yaml" {
				t.Errorf("%s located at %s", f.CheckID, f.Location)
			}
			return
		}
	}
	t.Errorf("no audit policy finding\n%s", stderr)
}

// TestNodeNothingFound: a root holding no node configuration is an error,
// not a clean pass.
func TestNodeNothingFound(t *testing.T) {
	code, fs, stderr := runNodeJSON(t, "--root", t.TempDir())
	if code != ExitError || len(fs) != 0 || !strings.Contains(stderr, "nothing kubeguard node reads was found") {
		t.Errorf("exit %d, %d findings, stderr %q", code, len(fs), stderr)
	}
}

// TestOneConfigForEveryCommand gives scan and node the same .kubeguard.yaml
// naming checks of the object engine, of node and of audit: each command
// accepts it, since a team keeps one file, and each still refuses an ID
// no command knows.
func TestOneConfigForEveryCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "shared.yaml", "checks:\n  disable: [image-tag-latest, apiserver-profiling, audit-log-exec]\n")
	pod := writeFile(t, dir, "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: nginx:latest}]\n")
	if code, _, stderr := runCLI([]string{"scan", "--config", cfg, pod}, ""); code == ExitError {
		t.Errorf("scan refused the shared configuration: %s", stderr)
	}
	if code, _, stderr := runNodeJSON(t, "--root", "../node/testdata/cases/insecure/root", "--config", cfg); code == ExitError {
		t.Errorf("node refused the shared configuration: %s", stderr)
	}
	bad := writeFile(t, dir, "bad.yaml", "checks:\n  disable: [no-such-check]\n")
	for _, args := range [][]string{{"scan", "--config", bad, pod}, {"node", "--root", "../node/testdata/cases/insecure/root", "--config", bad}} {
		if code, _, stderr := runCLI(args, ""); code != ExitError || !strings.Contains(stderr, `unknown check "no-such-check"`) {
			t.Errorf("%s with an unknown check: exit %d, %q", args[0], code, stderr)
		}
	}
	code, stdout, _ := runCLI([]string{"checks", "audit-log-exec", "apiserver-profiling"}, "")
	if code != ExitOK || !strings.Contains(stdout, "audit-log-exec:") || !strings.Contains(stdout, "apiserver-profiling:") {
		t.Errorf("checks does not explain audit and node checks: exit %d\n%s", code, stdout)
	}
}
