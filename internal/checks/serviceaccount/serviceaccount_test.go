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
	rbacchecks "github.com/kubeguard/kubeguard/internal/checks/rbac"
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

// TestTokenAutomountSeverity holds the RBAC part of the automount check to
// package rbac's verdict: high for the pods of ServiceAccounts bound to a
// risky permission (directly, or through the group of their namespace),
// low for the others, with the permission named.
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
		if f.Object.Name == "admin-bot" && (!strings.Contains(f.Detail, "(ClusterRole/cluster-admin is built into the API server)") || strings.Contains(f.Detail, "defaults.yaml")) {
			t.Errorf("admin-bot: detail does not name the built-in role: %s", f.Detail)
		}
		results = append(results, result{f.Object.String(), f.Severity,
			strings.Contains(f.Detail, "read secrets cluster-wide") || strings.Contains(f.Detail, "create pods in namespace ops")})
	}
	want := []result{
		{"Deployment/shop/web", finding.Low, false},
		{"CronJob/shop/reports", finding.Low, false},
		{"Pod/shop/api", finding.Low, false},
		{"Deployment/ci/deploy-bot", finding.High, true},
		{"Pod/ops/runner", finding.High, true},
		{"Pod/ci/builder", finding.High, true},
		{"Pod/staging/deployer", finding.Low, false},
		{"Pod/tools/admin-bot", finding.High, false},
		{"Pod/team/team-bot", finding.High, false},
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestPowersAgreeWithRBAC holds the automount check's choice of RBAC input
// to the whole analysis: over each file, the pods it reports as high are
// exactly the workloads `kubeguard rbac risks` reports as running with a
// powerful token, when it reads the entire file.
func TestPowersAgreeWithRBAC(t *testing.T) {
	for _, path := range []string{
		filepath.Join("testdata", "service-account-token-automount.yaml"),
		filepath.Join("testdata", "service-account-token-automount_ok.yaml"),
		filepath.Join("..", "rbac", "testdata", "rbac-privileged-token-workload.yaml"),
		filepath.Join("..", "rbac", "testdata", "rbac-privileged-token-workload_ok.yaml"),
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
				if f.CheckID == rbacchecks.PrivilegedTokenWorkload.ID {
					want = append(want, f.Object.String())
				}
			}
			got, err := checktest.Scan(path, []check.Check{serviceaccount.TokenAutomount}, checktest.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			var high []string
			for _, f := range got {
				if f.Severity == finding.High {
					high = append(high, f.Object.String())
				}
			}
			slices.Sort(want)
			slices.Sort(high)
			if diff := cmp.Diff(want, high); diff != "" {
				t.Errorf("high findings against rbac risks (-rbac +check):\n%s", diff)
			}
		})
	}
}

// TestTokenAutomountNoRBACDefaults: with the built-in roles left out
// (scan --no-defaults), a binding to cluster-admin that the input does not
// define grants nothing, and the pod bound so is no longer rated by it.
func TestTokenAutomountNoRBACDefaults(t *testing.T) {
	opts := checktest.DefaultOptions
	opts.NoRBACDefaults = true
	got, err := checktest.Scan(filepath.Join("testdata", "service-account-token-automount.yaml"),
		[]check.Check{serviceaccount.TokenAutomount}, opts)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range got {
		if f.Object.Name == "admin-bot" {
			found = true
			if f.Severity == finding.High || strings.Contains(f.Detail, "cluster-admin") {
				t.Errorf("admin-bot rated by the built-in cluster-admin with --no-defaults: %s %s", f.Severity, f.Detail)
			}
		}
	}
	if !found {
		t.Error("no finding for admin-bot, which mounts its token")
	}
}
