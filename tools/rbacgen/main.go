// Command rbacgen writes the generated cluster of the RBAC benchmarks
// (rbactest.Large: 10,000 Roles and ClusterRoles, 10,000 bindings,
// ServiceAccounts and Deployments) as one multi-document YAML file, for
// whole-program runs of the rbac commands:
//
//	go run ./tools/rbacgen -out /tmp/rbac-large.yaml
//	kubeguard rbac risks -o json -f /tmp/rbac-large.yaml
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

func main() {
	o := rbactest.Large
	var out string
	flag.StringVar(&out, "out", "", "`file` to write (required)")
	flag.Uint64Var(&o.Seed, "seed", o.Seed, "random seed; the same seed writes the same bytes")
	flag.Parse()
	if out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	data := rbactest.Generate(o).YAML()
	if err := os.WriteFile(out, data, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "rbacgen: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "rbacgen: %d bytes to %s\n", len(data), out)
}
