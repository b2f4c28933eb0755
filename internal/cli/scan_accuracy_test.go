package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanTypeErrors: an object the API server would refuse to decode (a
// string where an integer belongs) is an input error located at the field,
// in Kubernetes terms, and the scan exits 2; it is never a silent pass.
func TestScanTypeErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		message   string
	}{
		{"service nodePort", `apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: NodePort
  ports:
  - port: 5432
    nodePort: "30080"
`, 8, `spec.ports[0].nodePort: must be an integer, not a string`},
		{"service port", `apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  ports:
  - port: "5432"
`, 6, `spec.ports[0].port: must be an integer, not a string`},
		{"ingress port number", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: "80"
`, 9, `spec.defaultBackend.service.port.number: must be an integer, not a string`},
		{"networkpolicy endPort", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: shop}
spec:
  podSelector: {}
  egress:
  - ports:
    - port: 80
      endPort: "90"
`, 9, `spec.egress[0].ports[0].endPort: must be an integer, not a string`},
		{"pod spec", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: c
        image: nginx:1.27
        ports:
        - containerPort: "80"
`, 11, `spec.template.spec.containers[0].ports[0].containerPort: must be an integer, not a string`},
		{"deployment replicas", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: [2]
  template:
    spec:
      containers: [{name: c, image: nginx:1.27}]
`, 5, `spec.replicas: must be an integer, not a list`},
		// The header (apiVersion, kind, metadata): at the field's line, in
		// the API's terms, not Go's unmarshalling message at the top.
		{"labels a string", `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: "x"
`, 5, `metadata.labels: must be an object, not a string`},
		{"annotation a number", `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    replicas: 3
`, 6, `metadata.annotations.replicas: must be a string, not an integer`},
		{"unknown field indented out of place", unknownField, 8, `spec.containers[0].requests: unknown field`},
		{"unknown field with the wrong case", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          runAsNonroot: true
`, 13, `spec.template.spec.containers[0].securityContext.runAsNonroot: unknown field; field names are case-sensitive: did you mean runAsNonRoot?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "in.yaml", tt.doc)
			code, out, stderr := runCLI([]string{"scan", "-o", "json", path}, "")
			if code != ExitError {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitError, stderr)
			}
			r := decodeReport(t, out)
			if len(r.Errors) != 1 {
				t.Fatalf("errors %+v, want one", r.Errors)
			}
			e := r.Errors[0]
			if e.Location.File != path || e.Location.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d", e.Location.File, e.Location.Line, filepath.Base(path), tt.line)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", e.Message, tt.message)
			}
			for _, goWord := range []string{"Go struct", "int32", "unmarshal"} {
				if strings.Contains(e.Message, goWord) {
					t.Errorf("message %q speaks Go (%q)", e.Message, goWord)
				}
			}
		})
	}
}

// unknownField is a pod whose requests are indented beside resources
// rather than in it: every client but a strict one drops them.
const unknownField = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: web
    resources:
    requests: {cpu: 50m}
`

// TestScanValidate: --validate takes kubectl apply's words. ignore (or
// false) drops unknown fields and judges the object; a mode without a
// counterpart is a usage error.
func TestScanValidate(t *testing.T) {
	path := writeFile(t, t.TempDir(), "in.yaml", unknownField)
	for _, mode := range []string{"ignore", "false"} {
		code, out, stderr := runCLI([]string{"scan", "-o", "json", "--validate", mode, path}, "")
		if code != ExitFindings {
			t.Errorf("--validate %s: exit %d, want %d; stderr: %s", mode, code, ExitFindings, stderr)
		}
		if r := decodeReport(t, out); len(r.Errors) != 0 || len(r.Findings) == 0 {
			t.Errorf("--validate %s: errors %+v and %d findings, want none and the pod judged", mode, r.Errors, len(r.Findings))
		}
	}
	if code, _, stderr := runCLI([]string{"scan", "--validate", "strict", path}, ""); code != ExitError {
		t.Errorf("--validate strict: exit %d, want %d; stderr: %s", code, ExitError, stderr)
	}
	if code, _, stderr := runCLI([]string{"scan", "--validate", "warn", path}, ""); code != ExitError || !strings.Contains(stderr, `invalid --validate "warn"`) {
		t.Errorf("--validate warn: exit %d, stderr %q; want a usage error", code, stderr)
	}
}

// envApp is one environment's copy of an app: a NetworkPolicy and a
// Deployment of the same names in every environment, selecting the
// environment's own labels.
func envApp(env string) string {
	return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web, env: ` + env + `}}
  policyTypes: [Ingress]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web, env: ` + env + `}}
  template:
    metadata: {labels: {app: web, env: ` + env + `}}
    spec:
      containers: [{name: c, image: nginx:1.27}]
`
}

// TestScanSameNamedObjects: two environments' files defining the same
// NetworkPolicy shop/web do not hide one another (each Deployment is
// selected by its own environment's copy), and the duplicate is reported
// with both places.
func TestScanSameNamedObjects(t *testing.T) {
	dir := t.TempDir()
	for _, env := range []string{"prod", "staging"} {
		if err := os.MkdirAll(filepath.Join(dir, "envs", env), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "envs", env), "app.yaml", envApp(env))
	}
	_, out, stderr := runCLI([]string{"scan", "-o", "json", "--fail-on", "critical", dir}, "")
	r := decodeReport(t, out)
	if r.Summary.Errors != 0 {
		t.Fatalf("errors: %s", stderr)
	}
	var dups []string
	for _, f := range r.Findings {
		switch f.CheckID {
		case "pod-no-network-policy":
			t.Errorf("%s:%d: pod-no-network-policy, but its own environment's NetworkPolicy selects it", f.Location.File, f.Location.Line)
		case "duplicate-object":
			dups = append(dups, f.Location.File)
		}
	}
	if len(dups) != 1 {
		t.Fatalf("duplicate-object findings in %v, want one", dups)
	}
	full := decodeFull(t, out)
	for _, f := range full {
		if f["checkID"] == "duplicate-object" {
			detail, _ := f["detail"].(string)
			if !strings.Contains(detail, filepath.Join("envs", "prod", "app.yaml")) {
				t.Errorf("duplicate-object detail %q does not name the other copy's place", detail)
			}
		}
	}
}

// decodeFull decodes a JSON report's findings as generic maps.
func decodeFull(t *testing.T, out string) []map[string]any {
	t.Helper()
	var r struct{ Findings []map[string]any }
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r.Findings
}

// TestExamplesTogether: scanning the bundled examples together reports the
// insecure twin's findings in full, although its hardened twin defines the
// same Namespace and Deployment names.
func TestExamplesTogether(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	count := func(r jsonReport, file string) map[string]int {
		m := map[string]int{}
		for _, f := range r.Findings {
			// The twins' shared names are reported, beside the rest.
			if f.Location.File == file && f.CheckID != "duplicate-object" {
				m[f.CheckID]++
			}
		}
		return m
	}
	insecure := filepath.Join(root, "insecure", "shop.yaml")
	_, alone, _ := runCLI([]string{"scan", "-o", "json", filepath.Join(root, "insecure")}, "")
	_, both, _ := runCLI([]string{"scan", "-o", "json", root}, "")
	want, got := count(decodeReport(t, alone), insecure), count(decodeReport(t, both), insecure)
	if len(want) == 0 {
		t.Fatal("insecure example alone: no findings")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("insecure example's findings alone and beside its twin (-alone +together):\n%s", diff)
	}
}

// namespacelessInstall is an install written for kubectl apply -n argocd:
// its namespaced objects name no namespace, its ClusterRoleBinding names
// the ServiceAccount in argocd.
const namespacelessInstall = `apiVersion: v1
kind: ServiceAccount
metadata: {name: controller}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: controller}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: controller}
subjects:
- {kind: ServiceAccount, name: controller, namespace: argocd}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller}
spec:
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      serviceAccountName: controller
      containers: [{name: c, image: controller:1.0}]
`

// TestScanNamespace: -n judges objects without a namespace as kubectl
// apply -n places them, which relates the install's ClusterRoleBinding to
// its workload; without it, the scan says the binding names a namespace
// the objects do not carry; an object of another namespace is refused, as
// kubectl refuses it.
func TestScanNamespace(t *testing.T) {
	dir := t.TempDir()
	install := writeFile(t, dir, "install.yaml", namespacelessInstall)
	findings := func(args ...string) map[string]string {
		code, out, stderr := runCLI(append([]string{"scan", "-o", "json", "--fail-on", "critical"}, args...), "")
		if code != ExitOK {
			t.Fatalf("scan %v: exit %d; stderr: %s", args, code, stderr)
		}
		m := map[string]string{}
		for _, f := range decodeFull(t, out) {
			obj := f["object"].(map[string]any)
			ns, _ := obj["namespace"].(string)
			m[f["checkID"].(string)] = ns + " " + f["detail"].(string)
		}
		return m
	}
	without := findings(install)
	if _, ok := without["service-account-subject-namespace"]; !ok {
		t.Errorf("without -n: no service-account-subject-namespace finding: %v", without)
	}
	with := findings("-n", "argocd", install)
	if d, ok := with["service-account-subject-namespace"]; ok {
		t.Errorf("with -n argocd: service-account-subject-namespace: %s", d)
	}
	// The binding now reaches the workload: its token is judged with the
	// grant (named for review), in namespace argocd.
	if d := with["service-account-token-automount"]; !strings.HasPrefix(d, "argocd ") || !strings.Contains(d, "read secrets") {
		t.Errorf("with -n argocd: automount finding %q, want it in argocd naming the secrets grant", d)
	}

	other := writeFile(t, dir, "other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\n")
	code, out, _ := runCLI([]string{"scan", "-o", "json", "-n", "argocd", other}, "")
	r := decodeReport(t, out)
	if code != ExitError || len(r.Errors) != 1 || r.Errors[0].Location.Line != 5 || !strings.Contains(r.Errors[0].Message, `"shop"`) {
		t.Errorf("object of another namespace with -n: exit %d, errors %+v; want exit 2 at its metadata.namespace", code, r.Errors)
	}
}

// TestFixesUseOwnNames: fixes name the object's own namespace, workload
// and labels, not the examples' (my-namespace, shop, app: web).
func TestFixesUseOwnNames(t *testing.T) {
	path := writeFile(t, t.TempDir(), "in.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: payments}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: other, namespace: payments}
spec:
  podSelector: {matchLabels: {app: other}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: payments}
spec:
  selector: {matchLabels: {app: ledger}}
  template:
    metadata: {labels: {app: ledger, tier: backend}}
    spec:
      containers: [{name: c, image: ledger:1.0}]
`)
	_, out, _ := runCLI([]string{"scan", "-o", "json", path}, "")
	fixes := map[string]string{}
	for _, f := range decodeFull(t, out) {
		fixes[f["checkID"].(string)], _ = f["remediation"].(string)
	}
	for id, want := range map[string][]string{
		"namespace-pss-enforce":          {"name: payments"},
		"namespace-default-deny-ingress": {"namespace: payments"},
		"pod-no-network-policy":          {"name: ledger", "namespace: payments", `"app": "ledger"`, `"tier": "backend"`},
		"service-account-default":        {"name: ledger", "namespace: payments", "serviceAccountName: ledger"},
		"image-digest":                   {"image: ledger:1.0@sha256:<digest>"},
	} {
		fix, ok := fixes[id]
		if !ok {
			t.Errorf("no %s finding", id)
			continue
		}
		for _, w := range want {
			if !strings.Contains(fix, w) {
				t.Errorf("%s: fix lacks %q:\n%s", id, w, fix)
			}
		}
		for _, placeholder := range []string{"my-namespace", "shop", "app: web"} {
			if strings.Contains(fix, placeholder) {
				t.Errorf("%s: fix keeps the placeholder %q:\n%s", id, placeholder, fix)
			}
		}
	}
}

// TestScanExcludeAndCharts: --exclude (repeatable, and exclude: in
// .kubeguard.yaml) skips paths of a directory walk; a Helm chart's raw
// templates are not YAML errors: the scan says the directory is a chart and
// how to scan it, and fails only when nothing else was there to scan.
func TestScanExcludeAndCharts(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"vendor", "envs/staging", "chart/templates"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "app.yaml", privilegedPod)
	writeFile(t, dir, "vendor/lib.yaml", privilegedPod)
	writeFile(t, dir, "envs/staging/app.yaml", privilegedPod)
	writeFile(t, dir, "chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
	writeFile(t, dir, "chart/values.yaml", "replicas: 1\n")
	writeFile(t, dir, "chart/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n")

	objects := func(args ...string) (int, []string, string) {
		code, out, stderr := runCLI(append([]string{"scan", "-o", "json"}, args...), "")
		r := decodeReport(t, out)
		var files []string
		for _, f := range r.Findings {
			if !slices.Contains(files, f.Location.File) {
				files = append(files, f.Location.File)
			}
		}
		if r.Summary.Errors != 0 {
			t.Errorf("scan %v: %d input errors: %s", args, r.Summary.Errors, stderr)
		}
		return code, files, stderr
	}
	_, files, stderr := objects("--exclude", "vendor", "--exclude", "envs/staging", dir)
	if want := []string{filepath.Join(dir, "app.yaml")}; !slices.Equal(files, want) {
		t.Errorf("--exclude: findings in %v, want %v", files, want)
	}
	if !strings.Contains(stderr, "chart is a Helm chart") || !strings.Contains(stderr, "helm template") {
		t.Errorf("the chart is not said to be one, with how to scan it: %q", stderr)
	}

	// An exclusion written as the path the user typed (dir/vendor), not
	// relative to the directory scanned, excludes too.
	if _, files, _ := objects("--exclude", filepath.Join(dir, "vendor"), "--exclude", filepath.Join(dir, "envs", "staging")+"/", dir); len(files) != 1 {
		t.Errorf("--exclude DIR/vendor: findings in %v, want app.yaml only", files)
	}
	// One that matches nothing is said; one that cannot match is refused.
	if _, _, stderr := objects("--exclude", "vendr", dir); !strings.Contains(stderr, `--exclude "vendr" matched no path`) {
		t.Errorf("a mistyped --exclude is not warned of: %q", stderr)
	}
	if code, _, stderr := runCLI([]string{"scan", "--exclude", "[", dir}, ""); code != ExitError || !strings.Contains(stderr, `invalid exclude pattern "["`) {
		t.Errorf("--exclude [: exit %d, %q", code, stderr)
	}

	writeFile(t, dir, ".kubeguard.yaml", "exclude: [vendor, \"*/staging\"]\n")
	if _, files, _ := objects(dir); len(files) != 1 {
		t.Errorf("exclude: in .kubeguard.yaml: findings in %v, want app.yaml only", files)
	}

	// A chart's templates named directly are the chart's, not YAML errors.
	for _, p := range []string{filepath.Join(dir, "chart", "templates"), filepath.Join(dir, "chart", "templates", "deploy.yaml")} {
		code, _, stderr := runCLI([]string{"scan", p}, "")
		if code != ExitError || !strings.Contains(stderr, "helm template "+filepath.Join(dir, "chart")+" |") || strings.Contains(stderr, "line 4") {
			t.Errorf("scan %s: exit %d, %q; want 2 and how to scan the chart", p, code, stderr)
		}
	}
	code, _, stderr := runCLI([]string{"scan", filepath.Join(dir, "chart")}, "")
	if code != ExitError || !strings.Contains(stderr, "helm template") {
		t.Errorf("a chart alone: exit %d (%q), want %d and how to scan it", code, stderr, ExitError)
	}
}

// TestScanBrokenPolicyNoFalseFinding: a NetworkPolicy of the wrong shape
// is an input error, and it does not turn into a false "no default-deny"
// finding for its namespace.
func TestScanBrokenPolicyNoFalseFinding(t *testing.T) {
	path := writeFile(t, t.TempDir(), "in.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports:
    - port: 80
      endPort: "90"
`)
	code, out, _ := runCLI([]string{"scan", "-o", "json", path}, "")
	r := decodeReport(t, out)
	if code != ExitError || len(r.Errors) != 1 {
		t.Errorf("exit %d, errors %+v; want 2 with the policy's error", code, r.Errors)
	}
	for _, f := range r.Findings {
		if f.CheckID == "namespace-default-deny-egress" {
			t.Errorf("namespace-default-deny-egress reported on account of a policy that does not decode")
		}
	}
}
