package rbac_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

// load parses a generated cluster as the CLI reads manifests.
func load(tb testing.TB, c rbactest.Cluster) []*object.Object {
	tb.Helper()
	return parseYAML(tb, c.YAML())
}

// parseYAML parses a YAML stream as the CLI reads manifests.
func parseYAML(tb testing.TB, data []byte) []*object.Object {
	tb.Helper()
	var objs []*object.Object
	for _, d := range manifest.Split(data) {
		os, errs := manifest.Parse("generated.yaml", d)
		if len(errs) > 0 {
			tb.Fatal(errs)
		}
		objs = append(objs, os...)
	}
	return objs
}

func build(objs []*object.Object) *rbac.Policy {
	return buildDecoded(decode(objs))
}

func decode(objs []*object.Object) []rbac.Decoded {
	ds := make([]rbac.Decoded, len(objs))
	for i, o := range objs {
		ds[i] = rbac.Decode(o)
	}
	return ds
}

// loop runs the benchmark body and reports the CPU time it took per
// operation (cpu-ms/op) beside the wall time.
func loop(b *testing.B, body func()) {
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		start := cputime.Used()
		body()
		cpu += cputime.Used() - start
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func buildDecoded(ds []rbac.Decoded) *rbac.Policy {
	var b rbac.Builder
	for _, d := range ds {
		b.AddDecoded(d)
	}
	return b.Build()
}

// BenchmarkDecode measures reading the RBAC fields of 24,000 parsed
// objects (10,000 roles, 10,000 bindings, ServiceAccounts, Deployments);
// the CLI does it on every core while the input streams in.
func BenchmarkDecode(b *testing.B) {
	objs := load(b, rbactest.Generate(rbactest.Large))
	loop(b, func() { decode(objs) })
}

// BenchmarkBuild measures indexing 10,000 roles and 10,000 bindings, with
// aggregation, from decoded objects.
func BenchmarkBuild(b *testing.B) {
	ds := decode(load(b, rbactest.Generate(rbactest.Large)))
	loop(b, func() { buildDecoded(ds) })
}

// BenchmarkWhoCan builds the policy and answers one who-can question over
// every binding of every namespace, as `kubeguard rbac who-can -A` does
// once the input is read.
func BenchmarkWhoCan(b *testing.B) {
	ds := decode(load(b, rbactest.Generate(rbactest.Large)))
	req := rbac.Attributes{Verb: "get", ResourceRequest: true, Resource: "secrets"}
	var n int
	loop(b, func() { n = len(rbac.NewAuthorizer(buildDecoded(ds)).WhoCan(req, true)) })
	b.ReportMetric(float64(n), "subjects")
}

// BenchmarkRisks builds the policy and evaluates every RBAC check, as
// `kubeguard rbac risks` does once the input is read.
func BenchmarkRisks(b *testing.B) {
	ds := decode(load(b, rbactest.Generate(rbactest.Large)))
	var n int
	loop(b, func() { n = len(rbac.Risks(buildDecoded(ds))) })
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkRisksOnly evaluates every RBAC check on a policy built once:
// the risk analysis without the indexing.
func BenchmarkRisksOnly(b *testing.B) {
	p := build(load(b, rbactest.Generate(rbactest.Large)))
	var n int
	loop(b, func() { n = len(rbac.Risks(p)) })
	b.ReportMetric(float64(n), "findings")
}

// BenchmarkWhoCanOnly answers the who-can question of BenchmarkWhoCan on a
// policy built once.
func BenchmarkWhoCanOnly(b *testing.B) {
	az := rbac.NewAuthorizer(build(load(b, rbactest.Generate(rbactest.Large))))
	req := rbac.Attributes{Verb: "get", ResourceRequest: true, Resource: "secrets"}
	var n int
	loop(b, func() { n = len(az.WhoCan(req, true)) })
	b.ReportMetric(float64(n), "subjects")
}

// BenchmarkPaths builds the policy and finds every subject's shortest
// chain to cluster-admin power, as `kubeguard rbac paths` does once the
// input is read.
func BenchmarkPaths(b *testing.B) {
	ds := decode(load(b, rbactest.Generate(rbactest.Large)))
	var n int
	loop(b, func() { n = len(rbac.Paths(buildDecoded(ds))) })
	b.ReportMetric(float64(n), "chains")
}

// BenchmarkAllowed measures one authorization decision on the built
// policy.
func BenchmarkAllowed(b *testing.B) {
	c := rbactest.Generate(rbactest.Large)
	az := rbac.NewAuthorizer(rbac.NewPolicy(c.Input))
	reqs := c.Requests(1, 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := reqs[i%len(reqs)]
		az.Allowed(r.User.Name, r.User.Groups, r.Attributes)
		i++
	}
}

// TestGeneratedConsistency holds the analysis to itself on a generated
// cluster: typed objects and manifests build the same policy, and
// who-can agrees with can-i for every request.
func TestGeneratedConsistency(t *testing.T) {
	o := rbactest.Large
	o.Roles, o.Bindings, o.Workloads = 2000, 2000, 200
	c := rbactest.Generate(o)
	fromYAML := rbac.NewAuthorizer(build(load(t, c)))
	typed := rbac.NewAuthorizer(rbac.NewPolicy(c.Input))
	allowed := 0
	for i, r := range c.Requests(7, 2000) {
		got, reason := fromYAML.Allowed(r.User.Name, r.User.Groups, r.Attributes)
		if want, _ := typed.Allowed(r.User.Name, r.User.Groups, r.Attributes); got != want {
			t.Fatalf("request %d %s as %v: manifests say %v, typed objects %v", i, r.Attributes, r.User, got, want)
		}
		if got {
			allowed++
		}
		// who-can must list a subject that applies to the user exactly
		// when can-i says yes.
		listed := slices.ContainsFunc(fromYAML.WhoCan(r.Attributes, false), func(g rbac.SubjectGrant) bool {
			u := g.Subject.User()
			switch g.Subject.Kind {
			case "Group":
				return slices.Contains(r.User.Groups, g.Subject.Name)
			default:
				return u.Name == r.User.Name
			}
		})
		// Members of system:masters need no binding.
		listed = listed || slices.Contains(r.User.Groups, rbac.SystemMasters)
		if listed != got {
			t.Fatalf("request %d %s as %v: can-i %v (%s), who-can lists the user: %v", i, r.Attributes, r.User, got, reason, listed)
		}
	}
	if allowed == 0 || allowed == 2000 {
		t.Errorf("%d of 2000 requests allowed: the generator does not exercise both answers", allowed)
	}
	t.Logf("%d of 2000 requests allowed", allowed)
}
