// Command kubeguard checks Kubernetes manifests and clusters against the
// Kubernetes security model.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/kubeguard/kubeguard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
