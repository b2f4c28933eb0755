package cli

import (
	"fmt"
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
