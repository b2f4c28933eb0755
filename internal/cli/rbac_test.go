package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

const rbacYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: god}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-deploys, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployer}
subjects: [{kind: User, name: alice}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: ServiceAccount, name: ci, namespace: team-a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewers, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, name: devs}]
`

func writeRBAC(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rbac.yaml")
	if err := os.WriteFile(path, []byte(rbacYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCLI(args []string, stdin string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, IO{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

func TestRBACCanI(t *testing.T) {
	file := writeRBAC(t)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{"allowed", []string{"create", "deployments", "--as", "alice", "-n", "team-a", "-f", file}, ExitOK,
			[]string{"yes\n", "create deployments.apps in namespace team-a as alice", "RoleBinding/team-a/alice-deploys → ClusterRole/deployer rules[0]", "rule at " + file + ":11:3"}, ""},
		{"other namespace", []string{"create", "deployments", "--as", "alice", "-n", "team-b", "-f", file}, ExitFindings, []string{"no\n"}, ""},
		{"default namespace", []string{"create", "deployments", "--as", "alice", "-f", file}, ExitFindings, []string{"in namespace default"}, ""},
		{"service account", []string{"delete", "nodes", "n1", "--as-sa", "team-a:ci", "-f", file}, ExitOK,
			[]string{"yes\n", "delete nodes n1 cluster-wide as system:serviceaccount:team-a:ci (groups system:serviceaccounts, system:serviceaccounts:team-a, system:authenticated)"}, ""},
		{"flags after positionals, long names", []string{"get", "deployments.apps/scale", "x", "--namespace=team-a", "--as=alice", "--filename", file}, ExitFindings, []string{"no\n"}, ""},
		{"system:masters", []string{"escalate", "clusterroles", "--as", "root", "--as-group", "system:masters", "-f", file}, ExitOK,
			[]string{"yes\n", "member of system:masters"}, ""},
		{"unresolved role", []string{"get", "pods", "--as", "bob", "--as-group", "devs", "-n", "team-a", "--no-defaults", "-f", file}, ExitFindings,
			[]string{"no\n", "note: RoleBinding/team-a/viewers applies but refers to ClusterRole/view, which is not in the input (the built-in roles are left out: --no-defaults)",
				"note: the API server's built-in roles are left out, as --no-defaults asks"}, ""},
		{"non-resource URL", []string{"get", "/healthz", "--as-sa", "team-a:ci", "--no-defaults", "-f", file}, ExitFindings, []string{"no\n", "get /healthz"}, ""},
		{"non-resource URL, the built-in roles included by default", []string{"get", "/healthz", "--as-sa", "team-a:ci", "-f", file}, ExitOK,
			[]string{"yes\n", "ClusterRoleBinding/system:public-info-viewer → ClusterRole/system:public-info-viewer rules[0]",
				"rule of ClusterRole/system:public-info-viewer, built into the API server", "note: the API server's built-in roles are included; --no-defaults leaves them out"}, ""},
		{"stdin", []string{"create", "deployments", "--as", "alice", "-n", "team-a", "-f", "-"}, ExitOK, []string{"yes\n"}, ""},
		{"no identity", []string{"get", "pods", "-f", file}, ExitError, nil, "--as USER or --as-sa"},
		{"both identities", []string{"get", "pods", "--as", "a", "--as-sa", "b:c", "-f", file}, ExitError, nil, "exclude each other"},
		{"bad service account", []string{"get", "pods", "--as-sa", "ci", "-f", file}, ExitError, nil, "want NAMESPACE/NAME"},
		{"no input", []string{"get", "pods", "--as", "a"}, ExitError, nil, "no input"},
		{"no resource", []string{"get", "--as", "a", "-f", file}, ExitError, nil, `no resource after the verb "get": want VERB RESOURCE`},
		{"too many arguments", []string{"get", "pods", "p", "q", "--as", "a", "-f", file}, ExitError, nil, `unexpected argument "q": want VERB RESOURCE`},
		{"unknown resource", []string{"get", "podz", "--as", "a", "-f", file}, ExitFindings, []string{"no\n"},
			`kubeguard: warning: "podz" is neither a built-in resource nor one of a CustomResourceDefinition of the input: asked for in the core API group`},
		{"service account name with a colon", []string{"get", "pods", "--as-sa", "a:b:c", "-f", file}, ExitError, nil, "want NAMESPACE/NAME"},
		{"service account as namespace/name", []string{"delete", "nodes", "n1", "--as-sa", "team-a/ci", "-f", file}, ExitOK, []string{"yes\n", "as system:serviceaccount:team-a:ci"}, ""},
		{"-n and -A", []string{"get", "pods", "--as", "a", "-n", "x", "-A", "-f", file}, ExitError, nil, "exclude each other"},
		{"by default: the built-in view, aggregated", []string{"get", "pods", "--as", "bob", "--as-group", "devs", "-n", "team-a", "-f", file}, ExitOK,
			[]string{"yes\n", "RoleBinding/team-a/viewers → ClusterRole/view rules[", "(aggregated from ClusterRole/system:aggregate-to-view rules[",
				"rule of ClusterRole/system:aggregate-to-view, built into the API server"}, ""},
		{"--with-defaults, kept as a no-op", []string{"get", "pods", "--as", "bob", "--as-group", "devs", "-n", "team-a", "--with-defaults", "-f", file}, ExitOK,
			[]string{"yes\n", "RoleBinding/team-a/viewers → ClusterRole/view rules["}, ""},
		{"with defaults: view does not read secrets", []string{"get", "secrets", "--as", "bob", "--as-group", "devs", "-n", "team-a", "--with-defaults", "-f", file}, ExitFindings,
			[]string{"no\n"}, ""},
		{"missing file", []string{"get", "pods", "--as", "a", "-f", filepath.Join(t.TempDir(), "none.yaml")}, ExitError, nil, "none.yaml: stat: no such file or directory\nkubeguard rbac can-i: no answer: 1 input error (above)"},
		{"missing file beside a grant", []string{"create", "deployments", "--as", "alice", "-n", "team-a", "-f", file, "-f", filepath.Join(t.TempDir(), "none.yaml")}, ExitError, []string{"yes\n"}, "none.yaml: stat: no such file or directory"},
		{"mistyped verb", []string{"gett", "pods", "--as", "a", "-f", file}, ExitFindings, []string{"no\n"}, `kubeguard: warning: "gett" is not a verb the API server authorizes (did you mean get?)`},
		{"mistyped non-resource verb", []string{"gett", "/healthz", "--as", "a", "-f", file}, ExitFindings, []string{"no\n"}, `kubeguard: warning: "gett" is not a verb the API server authorizes (did you mean get?)`},
		{"special verb", []string{"impersonate", "users", "--as", "a", "-f", file}, ExitFindings, []string{"no\n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"rbac", "can-i"}, tc.args...), rbacYAML)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderr) || tc.stderr == "" && stderr != "" {
				t.Errorf("stderr %q, want %q", stderr, tc.stderr)
			}
		})
	}
}

func TestRBACCanIJSON(t *testing.T) {
	file := writeRBAC(t)
	code, stdout, stderr := runCLI([]string{"rbac", "can-i", "create", "deployments", "--as", "alice", "-n", "team-a", "-o", "json", "-f", file}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Allowed bool
		Reason  string
		Request map[string]any
		Grants  []struct {
			Binding, Role, RuleText string
			Rule                    int
			RuleLocation            struct{ File string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Allowed || got.Reason != `RBAC: allowed by RoleBinding "alice-deploys/team-a" of ClusterRole "deployer" to User "alice"` || len(got.Grants) != 1 {
		t.Fatalf("got %+v", got)
	}
	if g := got.Grants[0]; g.Binding != "RoleBinding/team-a/alice-deploys" || g.Role != "ClusterRole/deployer" || g.RuleLocation.File != file {
		t.Errorf("grant %+v", g)
	}
	if diff := cmp.Diff(map[string]any{"verb": "create", "resourceRequest": true, "namespace": "team-a", "apiGroup": "apps", "resource": "deployments"}, got.Request); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestRBACWhoCan(t *testing.T) {
	file := writeRBAC(t)
	code, stdout, stderr := runCLI([]string{"rbac", "who-can", "create", "deployments", "-A", "-f", file}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"who can create deployments.apps in any namespace:", "Group system:masters", "ServiceAccount team-a/ci", "User alice", "namespace team-a"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout)
		}
	}
	code, stdout, _ = runCLI([]string{"rbac", "who-can", "create", "deployments", "-n", "team-b", "-o", "json", "-f", file}, "")
	var got struct {
		Subjects []struct {
			Subject struct{ Kind, Namespace, Name string }
			Builtin bool
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != ExitOK || err != nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	// The built-in cluster-admin binding of system:masters is included.
	if len(got.Subjects) != 2 || got.Subjects[0].Subject.Name != "ci" || got.Subjects[1].Subject.Name != "system:masters" || !got.Subjects[1].Builtin {
		t.Errorf("team-b: %+v, want the cluster-wide ServiceAccount and the built-in binding of system:masters", got.Subjects)
	}
	code, stdout, _ = runCLI([]string{"rbac", "who-can", "create", "deployments", "-n", "team-b", "-o", "json", "--no-defaults", "-f", file}, "")
	got.Subjects = nil
	if err := json.Unmarshal([]byte(stdout), &got); code != ExitOK || err != nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	if len(got.Subjects) != 1 || got.Subjects[0].Subject.Name != "ci" {
		t.Errorf("team-b, --no-defaults: %+v, want only the cluster-wide ServiceAccount", got.Subjects)
	}
}

func TestRBACRisks(t *testing.T) {
	file := writeRBAC(t)
	code, stdout, stderr := runCLI([]string{"rbac", "risks", "--no-defaults", "-f", file}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (findings at high or above)\n%s%s", code, stdout, stderr)
	}
	for _, s := range []string{"rbac-cluster-admin-binding", "rbac-workload-create", "rbac-binding-missing-role", "rbac-wildcard", file + ":22:1"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout)
		}
	}
	if code, _, _ := runCLI([]string{"rbac", "risks", "--fail-on", "critical", "-f", file, "-o", "json"}, ""); code != ExitFindings {
		t.Errorf("--fail-on critical: exit %d, want 1 (the ClusterRoleBinding to a god role is critical)", code)
	}
	out := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr = runCLI([]string{"rbac", "risks", "--format", "json", "--output-file", out, "--fail-on", "critical", "-f", "-"}, rbacYAML+"---\nkind: [unclosed\n")
	if code != ExitError || !strings.Contains(stderr, "<stdin>:31: invalid YAML") {
		t.Errorf("invalid YAML: exit %d, want 2; %s", code, stderr)
	}
	code, _, stderr = runCLI([]string{"rbac", "risks", "--format", "json", "--output-file", out, "--fail-on", "critical", "-f", file}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Checks   []struct{ ID string }
		Findings []struct {
			CheckID  string
			Severity string
			Object   struct{ Kind, Name string }
			Reason   string
			DocURL   string
		}
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) < 19 {
		t.Errorf("%d checks in the report", len(rep.Checks))
	}
	found := false
	for _, f := range rep.Findings {
		if f.CheckID == "rbac-cluster-admin-binding" {
			found = true
			if f.Severity != "critical" || f.Object.Name != "ci-admin" || !strings.Contains(f.Reason, "ServiceAccount team-a/ci") ||
				!strings.HasPrefix(f.DocURL, "https://kubernetes.io/docs/concepts/security/rbac-good-practices/") {
				t.Errorf("finding %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("no cluster-admin finding in %s", data)
	}
}

func TestRBACPaths(t *testing.T) {
	file := writeRBAC(t)
	code, stdout, stderr := runCLI([]string{"rbac", "paths", "-f", file}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{
		"2 subjects of the input can reach cluster-admin power.\n(the API server's built-in roles are included; --no-defaults leaves them out)\n",
		"\nUser alice: 2 steps\n  User alice → ServiceAccount team-a/ci → cluster-admin\n",
		"  next: User alice creates deployments in namespace team-a whose pods run as ServiceAccount team-a/ci\n",
		"  then as ServiceAccount team-a/ci (1 step)\n",
		"\nServiceAccount team-a/ci: 1 step\n  ServiceAccount team-a/ci → cluster-admin\n  next: ServiceAccount team-a/ci holds every verb on every resource cluster-wide\n",
	} {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, stdout)
		}
	}
	code, stdout, _ = runCLI([]string{"rbac", "paths", "-o", "json", "-f", file}, "")
	var got struct {
		BuiltinRoles bool
		Hops         []struct {
			Subject  struct{ Kind, Name string }
			Start    bool
			Summary  string
			Distance int
			Step     struct {
				Action string
				To     *struct{ Kind, Namespace, Name string }
				Grants []struct {
					Binding    string
					PolicyRule struct{ Verbs, APIGroups, Resources []string }
					Builtin    bool
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); code != ExitOK || err != nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	if len(got.Hops) != 2 || !got.BuiltinRoles {
		t.Fatalf("hops %+v, want alice's and the ServiceAccount's, the built-in roles included", got.Hops)
	}
	alice := got.Hops[1]
	if alice.Subject.Name != "alice" || !alice.Start || alice.Distance != 2 || alice.Step.To.Name != "ci" ||
		alice.Summary != "User alice → ServiceAccount team-a/ci → cluster-admin" ||
		alice.Step.Grants[0].Binding != "RoleBinding/team-a/alice-deploys" || alice.Step.Grants[0].Builtin ||
		!cmp.Equal(alice.Step.Grants[0].PolicyRule.Resources, []string{"deployments"}) {
		t.Errorf("alice: %+v", alice)
	}
	// Grants through the built-in roles name the role, not a place in
	// kubeguard's copy of it; the built-in roles come without a flag.
	code, stdout, _ = runCLI([]string{"rbac", "paths", "-f", "-"}, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: ops}]
`)
	if want := "rule of ClusterRole/cluster-admin, built into the API server"; code != ExitOK || !strings.Contains(stdout, want) || strings.Contains(stdout, "defaults.yaml") {
		t.Errorf("exit %d, stdout lacks %q or names kubeguard's copy:\n%s", code, want, stdout)
	}
	code, stdout, _ = runCLI([]string{"rbac", "paths", "--no-defaults", "-f", "-"}, `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: ops}]
`)
	if want := "no subject of the input can reach cluster-admin power\n(the API server's built-in roles are left out, as --no-defaults asks)\n"; code != ExitOK || stdout != want {
		t.Errorf("--no-defaults: exit %d, stdout %q, want %q", code, stdout, want)
	}
}

func TestRBACUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"rbac"}, ExitError, "Usage: kubeguard rbac <command>"},
		{[]string{"rbac", "--help"}, ExitOK, "who-can"},
		{[]string{"rbac", "nope"}, ExitError, `unknown command "nope"`},
		{[]string{"rbac", "risks", "extra", "-f", "x"}, ExitError, `unexpected argument "extra"`},
		{[]string{"rbac", "paths", "-o", "yaml", "-f", "x"}, ExitError, `invalid --output "yaml" (want one of text, json)`},
		{[]string{"rbac", "risks", "--fail-on", "urgent", "-f", "x"}, ExitError, "invalid --fail-on"},
		{[]string{"rbac", "who-can", "--help"}, ExitOK, "Usage: kubeguard rbac who-can"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args, "")
			if code != tc.code || !strings.Contains(stdout+stderr, tc.out) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.out, stdout, stderr)
			}
		})
	}
}

// BenchmarkRBACRisksCommand runs `kubeguard rbac risks -o json` over the
// generated cluster of 10,000 roles and 10,000 bindings (24,000 objects in
// one file): reading, parsing, decoding, analysing and writing the report.
func BenchmarkRBACRisksCommand(b *testing.B) {
	benchRBACCommand(b, "risks", "-o", "json")
}

// BenchmarkRBACWhoCanCommand runs `kubeguard rbac who-can get secrets -A`
// over the same cluster.
func BenchmarkRBACWhoCanCommand(b *testing.B) {
	benchRBACCommand(b, "who-can", "get", "secrets", "-A")
}

// BenchmarkRBACPathsCommand runs `kubeguard rbac paths -o json` over the
// same cluster.
func BenchmarkRBACPathsCommand(b *testing.B) {
	benchRBACCommand(b, "paths", "-o", "json")
}

func benchRBACCommand(b *testing.B, args ...string) {
	path := filepath.Join(b.TempDir(), "cluster.yaml")
	data := rbactest.Generate(rbactest.Large).YAML()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		var stderr bytes.Buffer
		start := cputime.Used()
		code := Run(context.Background(), append(append([]string{"rbac"}, args...), "-f", path), IO{Stdout: io.Discard, Stderr: &stderr})
		cpu += cputime.Used() - start
		if code == ExitError {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// namespacelessYAML is written for kubectl apply -n shop: its namespaced
// objects name no namespace, while the ClusterRoleBinding names the
// ServiceAccount of shop that its Deployment runs as.
const namespacelessYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: god}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: shop-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: ServiceAccount, name: admin, namespace: shop}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: admin
      containers: [{name: web, image: nginx}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: debug}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: debug}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: debug}
subjects: [{kind: User, name: dev}]
`

func TestRBACNamespace(t *testing.T) {
	// Without -n the objects land in default, and the warning says why
	// dev's route is missing.
	code, stdout, stderr := runCLI([]string{"rbac", "paths", "--no-defaults", "-f", "-"}, namespacelessYAML)
	if code != ExitOK || strings.Contains(stdout, "User dev") ||
		!strings.Contains(stderr, `the input looks namespace-less: 3 namespaced objects name no namespace and are taken to be in "default", but bindings name ServiceAccounts of namespace shop`) {
		t.Errorf("without -n: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// With -n shop, as kubectl apply -n shop places them.
	for _, flag := range []string{"-n", "--namespace"} {
		code, stdout, stderr = runCLI([]string{"rbac", "paths", "--no-defaults", flag, "shop", "-f", "-"}, namespacelessYAML)
		if want := "User dev: 2 steps\n  User dev → ServiceAccount shop/admin → cluster-admin\n  next: User dev execs into Deployment/shop/web, which runs as ServiceAccount shop/admin\n"; code != ExitOK || !strings.Contains(stdout, want) || stderr != "" {
			t.Errorf("%s shop: exit %d, want %q\nstdout:\n%s\nstderr:\n%s", flag, code, want, stdout, stderr)
		}
	}
	code, stdout, stderr = runCLI([]string{"rbac", "risks", "--no-defaults", "-n", "shop", "-o", "json", "-f", "-"}, namespacelessYAML)
	if code != ExitFindings || !strings.Contains(stdout, `"namespace": "shop"`) || !strings.Contains(stdout, "rbac-pod-exec") {
		t.Errorf("risks -n shop: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// An object of another namespace is refused, as kubectl apply -n refuses it.
	code, _, stderr = runCLI([]string{"rbac", "paths", "--no-defaults", "-n", "other", "-f", "-"}, namespacelessYAML+"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x, namespace: shop}\n")
	if want := `the object's namespace "shop" does not match the namespace "other" given with -n (kubectl apply -n refuses it)`; code != ExitError || !strings.Contains(stderr, want) {
		t.Errorf("mismatch: exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
}

// TestRBACRisksConfig gives rbac risks a .kubeguard.yaml as scan takes
// one: next to the manifests, it disables a check, lowers another's
// severity and exempts a third's finding, which then no longer fails the
// gate; a baseline accepts the findings it holds.
func TestRBACRisksConfig(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "rbac.yaml", rbacYAML)
	writeFile(t, dir, ".kubeguard.yaml", `checks:
  disable: [rbac-wildcard]
  severity: {rbac-workload-create: info}
exemptions:
  - checks: [rbac-cluster-admin-binding]
    kind: ClusterRoleBinding
    name: ci-admin
    reason: the CI runner is cluster admin by design
`)
	code, stdout, stderr := runCLI([]string{"rbac", "risks", "--no-defaults", "-o", "json", "--fail-on", "critical", "-f", file}, "")
	if code != ExitOK {
		t.Errorf("exit %d, want 0: the only critical finding is exempt\n%s", code, stderr)
	}
	var rep struct {
		Config   string
		Findings []struct {
			CheckID, Severity string
			Suppressed        *struct{ Kind string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rep.Config, ".kubeguard.yaml") {
		t.Errorf("report names config %q", rep.Config)
	}
	exempt := false
	for _, f := range rep.Findings {
		switch f.CheckID {
		case "rbac-wildcard":
			t.Error("a disabled check reported")
		case "rbac-workload-create":
			if f.Severity != "info" {
				t.Errorf("rbac-workload-create at %s, want the override info", f.Severity)
			}
		case "rbac-cluster-admin-binding":
			exempt = f.Suppressed != nil && f.Suppressed.Kind == "exemption"
		}
	}
	if !exempt {
		t.Error("the cluster-admin binding is not exempt")
	}
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := runCLI([]string{"rbac", "risks", "--no-defaults", "-o", "json", "--output-file", baseline, "--config", "/dev/null", "-f", file}, ""); code != ExitFindings {
		t.Fatalf("baseline run: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI([]string{"rbac", "risks", "--no-defaults", "--baseline", baseline, "--config", "/dev/null", "-f", file}, ""); code != ExitOK {
		t.Errorf("with every finding in the baseline: exit %d, want 0: %s", code, stderr)
	}
}

// TestRBACEmptyInput holds every rbac command to scan's rule: input with
// no Kubernetes object is an error, unless --allow-empty says it is meant.
func TestRBACEmptyInput(t *testing.T) {
	empty := t.TempDir()
	for _, args := range [][]string{
		{"rbac", "risks", "-f", empty},
		{"rbac", "paths", "-f", empty},
		{"rbac", "can-i", "get", "pods", "--as", "alice", "-f", empty},
		{"rbac", "who-can", "get", "pods", "-f", "-"},
	} {
		code, _, stderr := runCLI(args, "")
		if code != ExitError || !strings.Contains(stderr, "no Kubernetes object found in") {
			t.Errorf("%v: exit %d, %q; want 2 and no Kubernetes object found", args, code, stderr)
		}
	}
	if code, _, stderr := runCLI([]string{"rbac", "risks", "--allow-empty", "-f", empty}, ""); code != ExitOK {
		t.Errorf("--allow-empty: exit %d: %s", code, stderr)
	}
}

// TestRBACUnknownFieldIsAnError: a binding whose subject misspells a field
// (namespaces for namespace) is refused at the field, as kubectl apply's
// strict field validation refuses it, rather than read as a subject in
// the binding's namespace.
func TestRBACUnknownFieldIsAnError(t *testing.T) {
	path := writeFile(t, t.TempDir(), "rb.yaml", `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects:
- {kind: ServiceAccount, name: app, namespaces: ops}
`)
	want := path + ":6:37: RoleBinding/shop/b: subjects[0].namespaces: unknown field"
	for _, args := range [][]string{
		{"rbac", "risks", "-f", path},
		{"rbac", "can-i", "get", "secrets", "--as", "system:serviceaccount:shop:app", "-n", "shop", "-f", path},
	} {
		code, _, stderr := runCLI(args, "")
		if code != ExitError || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", args[1], code, stderr, ExitError, want)
		}
	}
}
