// Command binaries builds (or finds in the cache) the kube-apiserver and
// etcd executables the end-to-end tests run, and prints their paths. run.sh
// calls it before go test, so that a cold build of several minutes does
// not count against the test binaries' timeout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b, err := apiserver.Build(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "binaries: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(b.APIServer)
	fmt.Println(b.Etcd)
}
