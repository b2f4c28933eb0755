// Package cli implements kubeguard's commands. Flags parse into option
// structs; nothing here is package-level state, so commands are testable by
// calling Run with buffers.
package cli

import (
	"context"
	"fmt"
	"io"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// Exit codes.
const (
	ExitOK       = 0
	ExitFindings = 1 // findings at or above --fail-on
	ExitError    = 2 // usage or input errors
)

// IO is the process's standard streams.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io IO) int
}

func commands() []command {
	return []command{
		{"scan", "check manifests against the Kubernetes security model", runScan},
		{"cluster", "check a live cluster: posture, Pod Security readiness, RBAC", runCluster},
		{"checks", "list the checks with their documentation", runChecks},
		{"rbac", "analyse RBAC: can-i, who-can, risks, escalation paths", runRBAC},
		{"webhook", "serve a validating admission webhook: Pod Security and kubeguard checks", runWebhook},
		{"version", "print the version", runVersion},
	}
}

// Run runs kubeguard with the given arguments (without the program name)
// and returns the exit code.
func Run(ctx context.Context, args []string, io IO) int {
	switch {
	case len(args) == 0:
		// Not asked for: the usage is the error.
		usage(io.Stderr)
		return ExitError
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help" && len(args) == 1:
		usage(io.Stdout)
		return ExitOK
	case args[0] == "help":
		// help scan, help rbac can-i: the command's own --help.
		return Run(ctx, append(args[1:len(args):len(args)], "--help"), io)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.Stderr, "kubeguard: unknown command %q\n\n", args[0])
	usage(io.Stderr)
	return ExitError
}

func usage(w io.Writer) {
	fmt.Fprint(w, `kubeguard checks Kubernetes manifests against the Kubernetes security model:
Pod Security Standards, security contexts, and more.

Usage:
  kubeguard <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Examples:
  kubeguard scan examples/insecure/
  helm template my-chart | kubeguard scan -o sarif --output kubeguard.sarif -
  kubeguard cluster --context prod
  kubeguard rbac who-can get secrets -n prod -f deploy/
  kubeguard help scan

Run 'kubeguard <command> --help' for a command's flags and examples.
`)
}

const versionHelp = `Usage: kubeguard version

Prints kubeguard's version.

Examples:
  kubeguard version
`

func runVersion(_ context.Context, args []string, io IO) int {
	fs := newFlags("version", versionHelp)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	fmt.Fprintln(io.Stdout, "kubeguard", Version)
	return ExitOK
}
