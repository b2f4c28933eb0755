package checktest

import (
	"syscall"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/tools/corpus"
)

// CorpusObjects parses the generated benchmark corpus of n workload objects
// (tools/corpus, seed 1) in memory, in input order, so that a benchmark
// can time what is done with objects apart from reading and parsing them.
func CorpusObjects(tb testing.TB, n int) []*object.Object {
	tb.Helper()
	var objs []*object.Object
	_, err := corpus.Generate(corpus.Options{N: n, Seed: 1}, func(f corpus.File) error {
		for _, d := range manifest.Split(f.Data) {
			os, errs := manifest.Parse(f.Name, d)
			if len(errs) > 0 {
				tb.Fatalf("%s: %v", f.Name, errs)
			}
			objs = append(objs, os...)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return objs
}

// CPUTime is the process's user and system time so far. Benchmarks report
// it per operation (cpu-ms/op): on a shared machine it moves less than
// wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
