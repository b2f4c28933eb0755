package checks

import (
	"flag"
	"testing"
	"time"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

var benchN = flag.Int("corpus.n", 2000, "workload objects in the benchmark corpus")

// BenchmarkCatalogue runs every check a scan runs over a generated corpus,
// one object after the other on one goroutine, as a scan's worker does:
// the engine, the pod template decoding, the Pod Security evaluation and
// locating, building findings and marking suppressed ones.
func BenchmarkCatalogue(b *testing.B) {
	all, err := All()
	if err != nil {
		b.Fatal(err)
	}
	objs := checktest.CorpusObjects(b, *benchN)
	var namespaces []*object.Object
	for _, o := range objs {
		if o.Ref.Kind == "Namespace" {
			namespaces = append(namespaces, o)
		}
	}
	engine := check.NewEngine(all, check.NewContext(check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}, namespaces))
	filter := &suppress.Filter{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	start := cputime.Used()
	var (
		n  int
		fs []finding.Finding
	)
	for b.Loop() {
		n = 0
		for _, o := range objs {
			// One scratch list reused, as a scan's worker does before it
			// keeps a document's findings.
			fs, err = engine.RunAppend(fs[:0], o)
			if err != nil {
				b.Fatal(err)
			}
			filter.Apply(o, fs)
			n += len(fs)
		}
	}
	b.ReportMetric(float64((cputime.Used()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(n), "findings")
}
