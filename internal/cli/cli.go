// Package cli implements kubeguard's commands. Flags parse into option
// structs; nothing here is package-level state, so commands are testable by
// calling Run with buffers.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
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
		{"netpol", "analyse NetworkPolicy: can-reach, matrix, exposure, diff", runNetpol},
		{"audit", "analyse auditing: lint the audit policy, detect attacks in audit logs, roles from logs", runAudit},
		{"node", "check a node's control-plane and kubelet configuration, encryption at rest and PKI", runNode},
		{"webhook", "serve a validating admission webhook: Pod Security and kubeguard checks", runWebhook},
		{"version", "print the version", func(_ context.Context, _ []string, io IO) int {
			fmt.Fprintln(io.Stdout, "kubeguard", Version)
			return ExitOK
		}},
	}
}

// Run runs kubeguard with the given arguments (without the program name)
// and returns the exit code.
func Run(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Stdout)
		if len(args) == 0 {
			return ExitError
		}
		return ExitOK
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
Run 'kubeguard <command> --help' for a command's flags and examples.
`)
}

// parse parses flags that may come before, between or after positional
// arguments ("scan dir/ --level baseline"), and returns the positionals.
// "--" ends flag parsing.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError reports a bad command line and returns ExitError.
func usageError(io IO, fs *flag.FlagSet, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(io.Stderr, "kubeguard %s: %v\nRun 'kubeguard %s --help' for usage.\n", fs.Name(), err, fs.Name())
	return ExitError
}

func oneOf(name, value string, allowed []string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return fmt.Errorf("invalid --%s %q (want one of %s)", name, value, strings.Join(allowed, ", "))
}
