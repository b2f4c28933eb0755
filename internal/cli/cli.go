// Package cli implements kubeguard's commands. Flags parse into option
// structs; nothing here is package-level state, so commands are testable by
// calling Run with buffers.
package cli

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
)

// Version, when set at build time with
// -ldflags "-X github.com/kubeguard/kubeguard/internal/cli.Version=v1.2.3",
// is the version kubeguard reports; otherwise the Go toolchain's stamp in
// the binary (the module version of 'go install ...@v1.2.3', or the
// pseudo-version it derives from the VCS for a build in a clone) is.
var Version string

// version is the version reports and user agents carry (versionOf).
var version = sync.OnceValue(func() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(Version, bi)
})

// versionOf is the version set at build time when there is one, else the
// module version of the build information when it is a version, else
// "dev" (a build without VCS stamping, such as -buildvcs=false).
func versionOf(set string, bi *debug.BuildInfo) string {
	switch {
	case set != "":
		return set
	case bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)":
		return bi.Main.Version
	}
	return "dev"
}

// versionDetails is the version with what the build information says of
// the source and the toolchain: the VCS revision and time, whether the
// tree had uncommitted changes, the Go version.
func versionDetails(set string, bi *debug.BuildInfo) string {
	v := versionOf(set, bi)
	if bi == nil {
		return v
	}
	var parts []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, "revision "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		parts = append(parts, t)
	}
	if settings["vcs.modified"] == "true" {
		parts = append(parts, "modified")
	}
	if bi.GoVersion != "" {
		parts = append(parts, bi.GoVersion)
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}

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
		{"explain", "show a check: rationale, fix, documentation", runExplain},
		{"rbac", "analyse RBAC: can-i, who-can, risks, escalation paths", runRBAC},
		{"netpol", "analyse NetworkPolicy: can-reach, matrix, exposure, diff", runNetpol},
		{"audit", "analyse auditing: lint the audit policy, detect attacks in audit logs, roles from logs", runAudit},
		{"node", "check a node's control-plane and kubelet configuration, encryption at rest and PKI", runNode},
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
	case args[0] == "--version":
		return runVersion(ctx, args[1:], io)
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
	msg := fmt.Sprintf("kubeguard: unknown command %q", args[0])
	best, bestD := "", min(len(args[0])/2+1, 3)
	for _, c := range commands() {
		if d := editDistance(args[0], c.name); d <= bestD && (best == "" || d < bestD) {
			best, bestD = c.name, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	fmt.Fprintf(io.Stderr, "%s\nRun 'kubeguard --help' for the commands.\n", msg)
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
  helm template my-chart | kubeguard scan -o sarif --output-file kubeguard.sarif -
  kubeguard cluster --context prod
  kubeguard rbac who-can get secrets -n prod -f deploy/
  kubeguard help scan

Run 'kubeguard <command> --help' for a command's flags and examples.
`)
}

const versionHelp = `Usage: kubeguard version

Prints kubeguard's version: the module version the binary was built
from ('go install github.com/kubeguard/kubeguard/cmd/kubeguard@v1.2.3'), or
for a build in a clone the pseudo-version the Go toolchain derives from the
commit, then the VCS revision and time, "modified" when the tree had
uncommitted changes, and the Go version. 'kubeguard --version' is the same.

Examples:
  kubeguard version
  kubeguard --version
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
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(io.Stdout, "kubeguard", versionDetails(Version, bi))
	return ExitOK
}

// subcommand is one command of a group: the can-i of kubeguard rbac.
type subcommand struct {
	name string
	run  func(ctx context.Context, args []string, io IO) int
}

// runGroup runs the command of a group (rbac, netpol, audit, webhook) that
// args name. Without one, the group's usage goes to standard error and the
// exit is ExitError; -h, --help or help print it on standard output; an
// unknown command is said, with the usage, on standard error.
func runGroup(ctx context.Context, group, usage string, subs []subcommand, args []string, io IO) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(io.Stderr, usage)
		return ExitError
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		fmt.Fprint(io.Stdout, usage)
		return ExitOK
	}
	for _, c := range subs {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.Stderr, "kubeguard %s: unknown command %q\n\n%s", group, args[0], usage)
	return ExitError
}
