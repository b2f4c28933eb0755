package checks

import (
	"flag"
	"syscall"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/suppress"
	"github.com/kubeguard/kubeguard/tools/corpus"
)

var benchN = flag.Int("corpus.n", 2000, "workload objects in the benchmark corpus")

// benchObjects parses a generated corpus of n workload objects once, so
// that the benchmark times the checks (and the pod template decoding each
// run does), not reading and parsing.
func benchObjects(b *testing.B, n int) []*object.Object {
	b.Helper()
	var objs []*object.Object
	_, err := corpus.Generate(corpus.Options{N: n, Seed: 1}, func(f corpus.File) error {
		for _, d := range manifest.Split(f.Data) {
			os, errs := manifest.Parse(f.Name, d)
			if len(errs) > 0 {
				b.Fatalf("%s: %v", f.Name, errs)
			}
			objs = append(objs, os...)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return objs
}

// cpuTime is the process's user and system time, so that the benchmark can
// report CPU time per operation, which moves less than wall time on a
// shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCatalogue runs every check a scan runs over a generated corpus,
// one object after the other on one goroutine, as a scan's worker does:
// the engine, the pod template decoding, the Pod Security evaluation and
// locating, building findings and marking suppressed ones.
func BenchmarkCatalogue(b *testing.B) {
	all, err := All()
	if err != nil {
		b.Fatal(err)
	}
	objs := benchObjects(b, *benchN)
	var namespaces []*object.Object
	for _, o := range objs {
		if o.Ref.Kind == "Namespace" {
			namespaces = append(namespaces, o)
		}
	}
	engine := check.NewEngine(all, check.NewContext(check.Options{PSSLevel: "restricted", PSSVersion: "latest"}, namespaces))
	filter := &suppress.Filter{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	start := cpuTime()
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
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(n), "findings")
}
