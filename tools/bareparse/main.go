// Command bareparse is the floor kubeguard's scan is measured against: it
// reads every file named (directories are walked like kubeguard scan walks
// them), splits each into documents and parses every document into a YAML
// node tree with the parser kubeguard uses (manifest.ParseYAML: the fast
// path, and gopkg.in/yaml.v3 for what it does not take), on GOMAXPROCS
// workers each reusing its memory from document to document as the scan's
// do, and nothing else. With -yaml.v3 it parses with gopkg.in/yaml.v3
// alone, the parser kubeguard used before.
//
//	go run ./tools/bareparse DIR...
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"gopkg.in/yaml.v3"
)

func main() {
	v3 := flag.Bool("yaml.v3", false, "parse with gopkg.in/yaml.v3 only")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: bareparse [-yaml.v3] PATH...")
		os.Exit(2)
	}
	parse := (*manifest.Arena).ParseYAML
	if *v3 {
		parse = func(_ *manifest.Arena, d []byte) (*yaml.Node, error) {
			var root yaml.Node
			err := yaml.Unmarshal(d, &root)
			return &root, err
		}
	}
	src := &manifest.Source{Paths: flag.Args()}
	files, errs := src.Files()
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, "bareparse:", e.Error())
	}
	var (
		docs, nodes, bad atomic.Int64
		next             atomic.Int64
		wg               sync.WaitGroup
	)
	// Each worker takes the next file, reads it, splits it and parses its
	// documents: reading overlaps with parsing on every core.
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var a manifest.Arena // reused from document to document, as in a scan
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				data, err := os.ReadFile(files[i])
				if err != nil {
					fmt.Fprintln(os.Stderr, "bareparse:", err)
					continue
				}
				for _, d := range manifest.Split(data) {
					a.Reset()
					root, err := parse(&a, d.Data)
					if err != nil {
						bad.Add(1)
						continue
					}
					docs.Add(1)
					nodes.Add(int64(count(root)))
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("%d files, %d documents, %d nodes, %d invalid\n", len(files), docs.Load(), nodes.Load(), bad.Load())
}

// count visits the tree, so that no parser can skip building it.
func count(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += count(k)
	}
	return c
}
