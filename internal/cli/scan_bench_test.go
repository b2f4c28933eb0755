package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"testing"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/corpus"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/run"
)

// benchN is the size of the generated corpus the scan benchmarks use; the
// default keeps "go test -bench ." at seconds. The whole-program figures in
// BENCHMARKS.md use tools/bench.sh and 20,000 objects.
var benchN = flag.Int("corpus.n", 2000, "workload objects in the benchmark corpus")

// benchCorpus writes a generated corpus of n workload objects to a
// temporary directory and returns its size in bytes.
func benchCorpus(b *testing.B, n int, single bool) (string, int64) {
	b.Helper()
	dir := b.TempDir()
	st, err := corpus.Write(dir, corpus.Options{N: n, Seed: 1, Single: single})
	if err != nil {
		b.Fatal(err)
	}
	return dir, st.Bytes
}

// BenchmarkScan runs the whole scan command, JSON report included, over a
// generated corpus: what a user waits for, minus process start-up.
func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct {
		name   string
		n      int
		single bool
	}{
		{"files", *benchN, false},
		{"single", *benchN, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir, size := benchCorpus(b, bc.n, bc.single)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var stderr bytes.Buffer
				code := Run(context.Background(), []string{"scan", "-o", "json", dir}, IO{Stdin: nil, Stdout: io.Discard, Stderr: &stderr})
				if code != ExitFindings {
					b.Fatalf("exit %d, want %d (findings); stderr:\n%s", code, ExitFindings, stderr.String())
				}
			}
			b.ReportMetric(float64(bc.n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkScanPipeline runs Scan alone (load, parse, decode, check,
// sort), without writing a report.
func BenchmarkScanPipeline(b *testing.B) {
	all, err := checks.All()
	if err != nil {
		b.Fatal(err)
	}
	opts := check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}
	dir, size := benchCorpus(b, *benchN, false)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		r := run.ScanReport(context.Background(), &manifest.Source{Paths: []string{dir}}, all, opts, 0, nil)
		if len(r.Errors) > 0 || len(r.Findings) == 0 {
			b.Fatalf("%d errors, %d findings", len(r.Errors), len(r.Findings))
		}
	}
	b.ReportMetric(float64(*benchN)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
