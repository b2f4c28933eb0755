package serviceaccount_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/serviceaccount"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", serviceaccount.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(serviceaccount.Checks); err != nil {
		t.Fatal(err)
	}
}

// TestTokenAutomountSeverity holds the RBAC part of the automount check:
// a token carrying a risky permission beyond the workload's own grants
// (through the default ServiceAccount, a group, a user name) has the
// severity `rbac risks` gives that permission, with the permission named;
// a token of a ServiceAccount the input grants access by name is needed,
// and its risky grants are named for review at low severity; a grant
// limited by resourceNames is not the general permission.
func TestTokenAutomountSeverity(t *testing.T) {
	got, err := checktest.Scan(filepath.Join("testdata", "service-account-token-automount.yaml"),
		[]check.Check{serviceaccount.TokenAutomount}, checktest.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Object   string
		Severity finding.Severity
		Powers   bool
	}
	var results []result
	for _, f := range got {
		// A grant through a built-in role names the role as the API
		// server's, not a place in kubeguard's copy of it.
		if f.Object.Name == "admin-bot" && (!strings.Contains(f.Detail, "cluster-admin") || strings.Contains(f.Detail, "defaults.yaml")) {
			t.Errorf("admin-bot: detail does not name the built-in role: %s", f.Detail)
		}
		// A named permission reads "read secrets (get/list secrets
		// cluster-wide, by ClusterRoleBinding/x)".
		results = append(results, result{f.Object.String(), f.Severity, strings.Contains(f.Detail, ", by ")})
		if f.Object.Name == "cache" && strings.Contains(f.Detail, "secrets") {
			t.Errorf("cache: a get on one named Secret is reported as reading secrets: %s", f.Detail)
		}
		if strings.Contains(f.Remediation, "serviceAccountToken") &&
			(!strings.Contains(f.Remediation, "ca.crt") || !strings.Contains(f.Remediation, "fieldPath: metadata.namespace")) {
			t.Errorf("%s: the projected token of the fix lacks ca.crt or the namespace:\n%s", f.Object, f.Remediation)
		}
	}
	want := []result{
		{"Deployment/shop/web", finding.Low, false},
		{"CronJob/shop/reports", finding.Low, false},
		{"Pod/shop/api", finding.Low, false},
		{"Deployment/ci/deploy-bot", finding.Low, true}, // its own grant: needed, named for review
		{"Pod/ops/runner", finding.Medium, true},        // create pods through a group: rbac-workload-create's medium
		{"Pod/ci/builder", finding.High, true},          // read secrets through its user name: rbac-secrets-read's high
		{"Pod/staging/deployer", finding.Low, false},
		{"Pod/tools/admin-bot", finding.Low, true},
		{"Pod/team/team-bot", finding.Low, true},
		{"Pod/cache/cache", finding.Low, false},
		{"Pod/shared/worker", finding.Critical, true}, // the default ServiceAccount bound to cluster-admin
		{"Pod/mon/monitor", finding.Low, true},        // bound without a subject namespace: the binding's
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestPowersAgreeWithRBAC holds the automount check's choice of RBAC input
// to the whole analysis: over each file, the pods it rates above low are
// among the workloads `kubeguard rbac risks` reports as running with a
// powerful token, when it reads the entire file. (It rates fewer: a token
// the install grants by name is needed, and a rule limited by
// resourceNames is not the general permission.)
func TestPowersAgreeWithRBAC(t *testing.T) {
	for _, path := range []string{
		filepath.Join("testdata", "service-account-token-automount.yaml"),
		filepath.Join("testdata", "service-account-token-automount_ok.yaml"),
		filepath.Join("..", "..", "rbac", "testdata", "checks", "rbac-privileged-token-workload.yaml"),
		filepath.Join("..", "..", "rbac", "testdata", "checks", "rbac-privileged-token-workload_ok.yaml"),
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Bindings to built-in roles the file lacks are resolved
			// with the built-in data, as rbac risks does by default.
			defs, err := rbac.Defaults()
			if err != nil {
				t.Fatal(err)
			}
			var b rbac.Builder
			b.AddDefaults(defs)
			for _, d := range manifest.Split(data) {
				objs, errs := manifest.Parse(path, d)
				if len(errs) > 0 {
					t.Fatal(errs)
				}
				for _, o := range objs {
					b.Add(o)
				}
			}
			var want []string
			for _, f := range rbac.Risks(b.Build()) {
				if f.CheckID == rbac.PrivilegedTokenWorkload.ID {
					want = append(want, f.Object.String())
				}
			}
			got, err := checktest.Scan(path, []check.Check{serviceaccount.TokenAutomount}, checktest.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range got {
				if f.Severity > finding.Low && !slices.Contains(want, f.Object.String()) {
					t.Errorf("%s rated %s, but rbac risks finds no powerful token there", f.Object, f.Severity)
				}
			}
		})
	}
}

// TestTokenAutomountNoRBACDefaults: with the built-in roles left out
// (scan --no-defaults), a binding to cluster-admin that the input does not
// define grants nothing, and the pod bound so is no longer rated by it: the
// binding names its ServiceAccount, so its token is needed, and with no
// risky permission known there is no finding at all.
func TestTokenAutomountNoRBACDefaults(t *testing.T) {
	opts := checktest.DefaultOptions
	opts.NoRBACDefaults = true
	got, err := checktest.Scan(filepath.Join("testdata", "service-account-token-automount.yaml"),
		[]check.Check{serviceaccount.TokenAutomount}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if f.Object.Name == "admin-bot" {
			t.Errorf("admin-bot rated by the built-in cluster-admin with --no-defaults: %s %s", f.Severity, f.Detail)
		}
		// The default ServiceAccount bound to cluster-admin is as
		// unknown: its pod gets the low finding of any mounted token.
		if f.Object.Name == "worker" && f.Severity != finding.Low {
			t.Errorf("worker rated %s with --no-defaults: %s", f.Severity, f.Detail)
		}
	}
}

// TestTokenAutomountFixFitsObject: the fix is written where the object
// keeps its pod spec (spec.template.spec of a Deployment, deeper for a
// CronJob) and names the object's own container, so that applying it as
// written fixes the object.
func TestTokenAutomountFixFitsObject(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.yaml")
	const in = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: storefront, image: shop/web:1.0}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: reporter, image: shop/report:1.0}]
`
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := checktest.Scan(path, []check.Check{serviceaccount.TokenAutomount}, checktest.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"web":    {"  spec:\n    template:\n      spec:\n        automountServiceAccountToken: false\n", "- name: storefront\n"},
		"report": {"  spec:\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            automountServiceAccountToken: false\n", "- name: reporter\n"},
	}
	for _, f := range got {
		for _, s := range want[f.Object.Name] {
			if !strings.Contains(f.Remediation, s) {
				t.Errorf("%s: fix lacks %q:\n%s", f.Object.Name, s, f.Remediation)
			}
		}
		delete(want, f.Object.Name)
	}
	if len(want) > 0 {
		t.Errorf("no finding for %v", want)
	}
}

// TestFixesNameTheObjectsOwn pins the fixes of a pod whose first container
// is an init container: the token is mounted in a container of its own,
// under containers (an init container named there would be a new
// container without an image), and the ServiceAccount is named after the
// pod, in its namespace.
func TestFixesNameTheObjectsOwn(t *testing.T) {
	const pod = `apiVersion: v1
kind: Pod
metadata: {name: report, namespace: billing}
spec:
  initContainers:
  - {name: migrate, image: registry.internal/migrate:1}
  containers:
  - {name: writer, image: registry.internal/writer:1}
`
	got, _ := checktest.ScanYAML(t, "pod.yaml", pod, []check.Check{serviceaccount.TokenAutomount, serviceaccount.DefaultServiceAccount})
	want := map[string][]string{
		"service-account-token-automount": {"  spec:\n    automountServiceAccountToken: false\n", "  containers:\n    - name: writer\n"},
		"service-account-default":         {"    name: report\n    namespace: billing\n", "  spec:\n    serviceAccountName: report"},
	}
	for _, f := range got {
		for _, s := range want[f.CheckID] {
			if !strings.Contains(f.Remediation, s) {
				t.Errorf("%s: fix lacks %q:\n%s", f.CheckID, s, f.Remediation)
			}
		}
		if strings.Contains(f.Remediation, "migrate") || strings.Contains(f.Remediation, "shop") {
			t.Errorf("%s: fix names what it should not:\n%s", f.CheckID, f.Remediation)
		}
		delete(want, f.CheckID)
	}
	for id := range want {
		t.Errorf("%s: no finding", id)
	}
}

// TestMountableSecretFixListsTheSecret pins the mountable-secrets fix: the
// pod's own ServiceAccount, in its namespace, with the Secret the finding
// names added to the field that must list it.
func TestMountableSecretFixListsTheSecret(t *testing.T) {
	got, err := checktest.Scan(filepath.Join("testdata", "service-account-mountable-secrets.yaml"),
		[]check.Check{serviceaccount.MountableSecrets}, checktest.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range got {
		_, rest, _ := strings.Cut(f.Detail, "names Secret ")
		secret, _, _ := strings.Cut(rest, ";")
		field := "  secrets:"
		if strings.Contains(f.Detail, "imagePullSecrets field") {
			field = "  imagePullSecrets:"
		}
		for _, s := range []string{"kind: ServiceAccount\n  metadata:\n    name: " + f.Object.Name + "\n    namespace: " + f.Object.Namespace + "\n", field, "- name: " + secret + "\n"} {
			if !strings.Contains(f.Remediation, s) {
				t.Errorf("%s: fix lacks %q:\n%s", f.Path, s, f.Remediation)
			}
		}
	}
}
