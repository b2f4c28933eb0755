package report

import (
	"flag"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/tools/corpus"
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
	engine := check.NewEngine(all, check.NewContext(check.Options{PSSLevel: "restricted", PSSVersion: "latest"}, nil))
	r := &Report{Version: "bench", Checks: all}
	_, err = corpus.Generate(corpus.Options{N: n, Seed: 1}, func(f corpus.File) error {
		for _, d := range manifest.Split(f.Data) {
			objs, errs := manifest.Parse(f.Name, d)
			r.Errors = append(r.Errors, errs...)
			for _, o := range objs {
				r.Objects = append(r.Objects, Object{Ref: o.Ref, Location: o.Source})
				if r.Findings, err = engine.RunAppend(r.Findings, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
			start := cpuTime()
			for b.Loop() {
				w = 0
				if err := out.Write(&w, r); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(w))
			b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
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
