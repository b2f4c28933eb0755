package report

import (
	"flag"
	"io"
	"k8s.io/pod-security-admission/api"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/finding"
)

var benchN = flag.Int("corpus.n", 2000, "workload objects in the benchmark corpus")

// benchReport is the report of a scan of a generated corpus of n objects,
// built without the command line: what the writers are given.
func benchReport(b *testing.B, n int) *Report {
	b.Helper()
	all, err := checks.All()
	if err != nil {
		b.Fatal(err)
	}
	engine := check.NewEngine(all, check.NewContext(check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}, nil))
	r := &Report{Version: "bench", Checks: all}
	for _, o := range checktest.CorpusObjects(b, n) {
		r.Objects = append(r.Objects, Object{Ref: o.Ref, Location: o.Source})
		if r.Findings, err = engine.RunAppend(r.Findings, o); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// BenchmarkWrite writes the report of a generated corpus in each format.
func BenchmarkWrite(b *testing.B) {
	r := benchReport(b, *benchN)
	for _, format := range Formats {
		b.Run(format, func(b *testing.B) {
			out, err := New(format, Options{})
			if err != nil {
				b.Fatal(err)
			}
			var w countingWriter
			b.ReportAllocs()
			start := cputime.Used()
			for b.Loop() {
				w = 0
				if err := out.Write(&w, r); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w))
			b.ReportMetric(float64((cputime.Used()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// countingWriter discards what it is given and counts it.
type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)

// BenchmarkSort sorts the findings of a generated corpus, shuffled, as
// rbac risks, cluster and whole reports do.
func BenchmarkSort(b *testing.B) {
	r := benchReport(b, *benchN)
	shuffled := slices.Clone(r.Findings)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	fs := make([]finding.Finding, len(shuffled))
	for b.Loop() {
		copy(fs, shuffled)
		Sort(fs)
	}
	b.ReportMetric(float64(len(fs)), "findings")
}
