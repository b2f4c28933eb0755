package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envs is a repository with two environments that each define ClusterRole
// app and the binding of ServiceAccount shop/web to it: prod grants get
// on Secrets, staging everything. base.yaml, in no environment, binds
// Group auditors to the same role.
var envs = map[string]string{
	"envs/prod/rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: app}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: app}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
`,
	"envs/staging/rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: app}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: app}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
`,
	"envs/base.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: auditors, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: app}
subjects: [{kind: Group, name: auditors}]
`,
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRBACRisksFileSets: neither environment's ClusterRole hides the
// other's: prod's Secrets read is reported at prod's binding, staging's
// wildcard at staging's rule, and the shared binding once per role it
// reaches, saying in which file set.
func TestRBACRisksFileSets(t *testing.T) {
	dir := writeTree(t, envs)
	t.Chdir(dir)
	code, out, stderr := runCLI([]string{"rbac", "risks", "-o", "json", "-f", "envs"}, "")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, stderr)
	}
	var r struct {
		Findings []struct {
			CheckID  string `json:"checkID"`
			Location struct {
				File string `json:"file"`
			} `json:"location"`
			Object struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"object"`
			Reason string `json:"reason"`
			Detail string `json:"detail"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	has := func(id, file, detail string) int {
		n := 0
		for _, f := range r.Findings {
			if f.CheckID == id && f.Location.File == file && strings.Contains(f.Reason+" "+f.Detail, detail) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		id, file, detail string
	}{
		{"rbac-secrets-read", "envs/prod/rbac.yaml", "envs/prod/rbac.yaml:5"},
		{"rbac-cluster-admin-binding", "envs/staging/rbac.yaml", "ServiceAccount shop/web"},
		{"rbac-wildcard", "envs/staging/rbac.yaml", ""},
		// The shared binding, judged by each environment's role.
		{"rbac-secrets-read", "envs/base.yaml", "in file set envs/prod;"},
		{"rbac-cluster-admin-binding", "envs/base.yaml", "in file set envs/staging;"},
	} {
		if n := has(c.id, c.file, c.detail); n != 1 {
			t.Errorf("%s at %s with %q: %d findings, want 1\n%s", c.id, c.file, c.detail, n, out)
		}
	}
	// Staging's wildcard never reaches prod's binding.
	for _, f := range r.Findings {
		if f.Location.File == "envs/prod/rbac.yaml" && f.CheckID != "rbac-secrets-read" && f.CheckID != "rbac-cluster-binding-namespaced-only" {
			t.Errorf("prod's binding judged by another role: %s: %s", f.CheckID, f.Detail)
		}
	}
	if !strings.Contains(stderr, "ClusterRole/app is also defined at envs/prod/rbac.yaml:1:1, in another file set") {
		t.Errorf("no warning naming both copies:\n%s", stderr)
	}
}

// TestRBACCanIFileSets: can-i answers for each file set when they differ,
// and exits 0 only when every file set says yes.
func TestRBACCanIFileSets(t *testing.T) {
	dir := writeTree(t, envs)
	t.Chdir(dir)
	code, out, stderr := runCLI([]string{"rbac", "can-i", "delete", "pods", "--as-sa", "shop/web", "-n", "shop", "-f", "envs"}, "")
	if code != ExitFindings {
		t.Errorf("exit %d, want %d (no in prod); stderr:\n%s", code, ExitFindings, stderr)
	}
	first, _, _ := strings.Cut(out, "\n")
	if first != "envs/prod: no; envs/staging: yes" {
		t.Errorf("first line %q, want the answer of each file set\n%s", first, out)
	}
	if !strings.Contains(out, "envs/staging: yes\n") || !strings.Contains(out, "rule at envs/staging/rbac.yaml:5:3") {
		t.Errorf("staging's answer does not name its rule:\n%s", out)
	}
	// Where both say yes, the answer is yes, and each file set's grant
	// is named.
	code, out, _ = runCLI([]string{"rbac", "can-i", "get", "secrets", "--as-sa", "shop/web", "-n", "shop", "-f", "envs"}, "")
	if code != ExitOK || !strings.HasPrefix(out, "yes\n") || !strings.Contains(out, "rule at envs/prod/rbac.yaml:5:3") || !strings.Contains(out, "rule at envs/staging/rbac.yaml:5:3") {
		t.Errorf("get secrets: exit %d\n%s", code, out)
	}
	// Where both answer alike through the same grants, one answer, as
	// for an input without copies.
	code, out, _ = runCLI([]string{"rbac", "can-i", "get", "secrets", "--as", "nobody", "-n", "shop", "-f", "envs"}, "")
	if code != ExitFindings || !strings.HasPrefix(out, "no\n") || strings.Contains(out, "envs/") {
		t.Errorf("nobody: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI([]string{"rbac", "can-i", "delete", "pods", "--as-sa", "shop/web", "-n", "shop", "-o", "json", "-f", "envs"}, "")
	var j struct {
		Allowed  bool `json:"allowed"`
		FileSets []struct {
			Allowed  bool     `json:"allowed"`
			FileSets []string `json:"fileSets"`
		} `json:"fileSets"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, out)
	}
	if j.Allowed || len(j.FileSets) != 2 || j.FileSets[0].Allowed || j.FileSets[0].FileSets[0] != "envs/prod" || !j.FileSets[1].Allowed || j.FileSets[1].FileSets[0] != "envs/staging" {
		t.Errorf("JSON answer: %+v\n%s", j, out)
	}
}

// TestRBACWhoCanFileSets: who-can lists the grants of every file set,
// each with the file sets it holds in.
func TestRBACWhoCanFileSets(t *testing.T) {
	dir := writeTree(t, envs)
	t.Chdir(dir)
	code, out, stderr := runCLI([]string{"rbac", "who-can", "delete", "pods", "-n", "shop", "-f", "envs"}, "")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var web, auditors []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "ServiceAccount shop/web "):
			web = append(web, l)
		case strings.HasPrefix(l, "Group auditors "):
			auditors = append(auditors, l)
		}
	}
	if len(web) != 1 || !strings.HasSuffix(web[0], "envs/staging") || !strings.Contains(web[0], "envs/staging/rbac.yaml:5:3") {
		t.Errorf("ServiceAccount shop/web: %q, want one grant, in staging\n%s", web, out)
	}
	if len(auditors) != 1 || !strings.HasSuffix(auditors[0], "envs/staging") {
		t.Errorf("Group auditors: %q, want one grant, in staging\n%s", auditors, out)
	}
	_, out, _ = runCLI([]string{"rbac", "who-can", "get", "secrets", "-n", "shop", "-f", "envs"}, "")
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ServiceAccount shop/web ") && !strings.Contains(l, "envs/prod/rbac.yaml:5:3") && !strings.Contains(l, "envs/staging/rbac.yaml:5:3") {
			t.Errorf("grant not located: %s", l)
		}
	}
	if n := strings.Count(out, "ServiceAccount shop/web "); n != 2 {
		t.Errorf("get secrets: %d grants to shop/web, want prod's and staging's\n%s", n, out)
	}
}

// TestAuditRBACFileSets: audit rbac -f leaves out a request only when
// every file set of the existing RBAC allows it: prod's Role lists pods,
// staging's same-named Role does not, so list stays in what is printed.
func TestAuditRBACFileSets(t *testing.T) {
	role := func(verb string) string {
		return `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: lister, namespace: a}
rules: [{apiGroups: [""], resources: [pods], verbs: [` + verb + `]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lister, namespace: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lister}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
`
	}
	dir := writeTree(t, map[string]string{
		"audit.log": auditLine("1", "system:serviceaccount:ci:deployer", "list", "pods", "", "a", "", 200) +
			auditLine("2", "system:serviceaccount:ci:deployer", "get", "pods", "", "a", "p1", 200),
		"envs/prod/rbac.yaml":    role("list"),
		"envs/staging/rbac.yaml": role("watch"),
	})
	// Staging first: the last copy, prod's, would win if they were merged.
	code, stdout, stderr := runCLI([]string{"audit", "rbac", "--serviceaccount", "ci/deployer", "-f", dir + "/envs/staging", "-f", dir + "/envs/prod", dir + "/audit.log"}, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "- list") || !strings.Contains(stdout, "- get") {
		t.Errorf("want list (staging lacks it) and get:\n%s", stdout)
	}
	// Where prod alone is given, list is allowed already.
	_, stdout, _ = runCLI([]string{"audit", "rbac", "--serviceaccount", "ci/deployer", "-f", dir + "/envs/prod", dir + "/audit.log"}, "")
	if strings.Contains(stdout, "- list") {
		t.Errorf("prod alone allows list:\n%s", stdout)
	}
}
