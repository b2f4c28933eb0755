package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tokenInput is n workloads, each running as a ServiceAccount of its own
// that a RoleBinding binds to an aggregated ClusterRole, with n/4 more
// ClusterRoles of which the aggregated one selects five: the RBAC the
// token check reads for every workload.
func tokenInput(n int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {aggregate-to-reader: "true"}}]
rules: []
`)
	for i := range n / 4 {
		label := ""
		if i < 5 {
			label = `, labels: {aggregate-to-reader: "true"}`
		}
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: part-%d%s}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get]}]\n", i, label)
	}
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa-%[1]d, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb-%[1]d, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: ServiceAccount, name: sa-%[1]d, namespace: shop}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%[1]d, namespace: shop}
spec:
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      serviceAccountName: sa-%[1]d
      containers: [{name: app, image: "registry.example/app:1"}]
`, i)
	}
	return b.String()
}

// TestScanTokenPowersLinear: the token check relates each workload to
// the bindings of its ServiceAccount and the roles they aggregate, not to
// every binding and role of the input, so a scan's allocations grow with
// the input, not with its square.
func TestScanTokenPowersLinear(t *testing.T) {
	allocs := func(n int) float64 {
		path := writeFile(t, t.TempDir(), "in.yaml", tokenInput(n))
		var findings int
		a := testing.AllocsPerRun(1, func() {
			code, out, stderr := runCLI([]string{"scan", "--compact", "--workers", "1", path}, "")
			if code == ExitError {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			// Found through the aggregated role: its parts read Secrets.
			findings = strings.Count(out, "token of a ServiceAccount granted risky permissions")
		})
		if findings != n {
			t.Fatalf("%d token findings for %d workloads", findings, n)
		}
		return a
	}
	small, large := allocs(300), allocs(600)
	t.Logf("allocations: %.0f, then %.0f for twice the input", small, large)
	if ratio := large / small; ratio > 2.8 {
		t.Errorf("allocations grow %.2f times for twice the input (%.0f to %.0f): not linear", ratio, small, large)
	}
}

// TestScanTokenBuiltinRoleReplaced: an input that redefines a built-in
// ClusterRole an aggregated one gathers from (system:aggregate-to-edit,
// with no rules) replaces it, as it does in a cluster: the token of a
// ServiceAccount bound to edit then carries nothing risky, as rbac can-i
// answers on the same input.
func TestScanTokenBuiltinRoleReplaced(t *testing.T) {
	path := writeFile(t, t.TempDir(), "in.yaml", `apiVersion: v1
kind: ServiceAccount
metadata: {name: app, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-edit, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: ServiceAccount, name: app, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregate-to-edit
rules: []
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default}
spec:
  serviceAccountName: app
  containers: [{name: c, image: "registry.example/app:1"}]
`)
	if code, _, stderr := runCLI([]string{"rbac", "can-i", "get", "secrets", "--as", "system:serviceaccount:default:app", "-n", "default", "-f", path}, ""); code != ExitFindings {
		t.Fatalf("rbac can-i: exit %d, want %d (no); stderr: %s", code, ExitFindings, stderr)
	}
	_, out, _ := runCLI([]string{"scan", "--compact", path}, "")
	if strings.Contains(out, "granted risky permissions") {
		t.Errorf("the token is rated by the built-in role the input replaces:\n%s", out)
	}
}

// TestScanTokenIndexOncePerInput: copies of a binding in many environment
// directories, beside bindings they all share, are indexed once for the
// whole input, not once per directory: what one more directory costs does
// not grow with the shared bindings.
func TestScanTokenIndexOncePerInput(t *testing.T) {
	allocs := func(bindings, envs int) float64 {
		dir := t.TempDir()
		var common strings.Builder
		for i := range bindings {
			fmt.Fprintf(&common, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb%d, namespace: ns}\n"+
				"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: ServiceAccount, name: sa%d, namespace: ns}]\n", i, i)
		}
		writeFile(t, dir, "common.yaml", common.String())
		for e := range envs {
			env := filepath.Join(dir, "envs", fmt.Sprint("e", e))
			if err := os.MkdirAll(env, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, env, "app.yaml", `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: shared, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: app, namespace: ns}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec:
  serviceAccountName: app
  containers: [{name: c, image: "registry.example/app:1"}]
`)
		}
		return testing.AllocsPerRun(1, func() {
			if code, _, stderr := runCLI([]string{"scan", "--compact", "--workers", "1", dir}, ""); code == ExitError {
				t.Fatalf("exit %d: %s", code, stderr)
			}
		})
	}
	// What 100 more directories cost, beside 500 and then 1,000 shared
	// bindings.
	few := allocs(500, 200) - allocs(500, 100)
	many := allocs(1000, 200) - allocs(1000, 100)
	t.Logf("100 directories more: %.0f allocations beside 500 bindings, %.0f beside 1,000", few, many)
	if ratio := many / few; ratio > 1.4 {
		t.Errorf("directories cost %.2f times more beside twice the shared bindings (%.0f to %.0f): an index per directory", ratio, few, many)
	}
}
