package checktest

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/corpus"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
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
