package rbac_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

// TestParallelMatchesSequential holds the analyses that split their work
// over goroutines to the same analyses on one: the same findings and
// chains, in the same order, from a generated cluster read as manifests.
func TestParallelMatchesSequential(t *testing.T) {
	o := rbactest.Large
	o.Namespaces, o.Users, o.Groups, o.Roles, o.Bindings, o.Workloads, o.Aggregated = 20, 100, 10, 1000, 1000, 200, 20
	p := build(load(t, rbactest.Generate(o)))
	wantRisks := rbac.RisksOn(p, 1)
	wantPaths := rbac.PathsOn(p, 1)
	t.Logf("%d findings, %d chains", len(wantRisks), len(wantPaths))
	if len(wantRisks) == 0 || len(wantPaths) == 0 {
		t.Fatalf("%d findings, %d chains: the generated cluster exercises nothing", len(wantRisks), len(wantPaths))
	}
	// Grants point at the policy's bindings and roles: the same ones.
	same := cmp.Options{
		cmp.Comparer(func(a, b *rbac.Binding) bool { return a == b }),
		cmp.Comparer(func(a, b *rbac.Role) bool { return a == b }),
	}
	for _, workers := range []int{2, 3, 8} {
		if diff := cmp.Diff(wantRisks, rbac.RisksOn(p, workers)); diff != "" {
			t.Errorf("risks on %d goroutines differ from one (-one +%d):\n%s", workers, workers, diff)
		}
		if diff := cmp.Diff(wantPaths, rbac.PathsOn(p, workers), same); diff != "" {
			t.Errorf("paths on %d goroutines differ from one (-one +%d):\n%s", workers, workers, diff)
		}
	}
}
