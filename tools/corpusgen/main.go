// Command corpusgen writes a deterministic corpus of Kubernetes workload
// manifests for whole-program benchmarks:
//
//	go run ./tools/corpusgen -n 20000 -out /tmp/corpus -seed 1
//
// Objects are spread over many files in one directory per namespace, or
// with -single written as one multi-document file.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kubeguard/kubeguard/internal/corpus"
)

func main() {
	var (
		o   corpus.Options
		out string
	)
	flag.IntVar(&o.N, "n", 20000, "number of workload objects")
	flag.StringVar(&out, "out", "", "directory to write the corpus to (required)")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed writes the same corpus")
	flag.BoolVar(&o.Single, "single", false, "write one multi-document file, all.yaml")
	flag.Parse()
	if out == "" || flag.NArg() > 0 || o.N < 0 {
		flag.Usage()
		os.Exit(2)
	}
	st, err := corpus.Write(out, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "corpusgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "corpusgen: %s\n", st)
}
