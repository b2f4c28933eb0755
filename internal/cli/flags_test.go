package cli

import (
	"strings"
	"testing"
)

// TestFlagConventions holds the command line to GNU and kubectl habits:
// shorthands glued to their value, --name=value, flags after the paths,
// and -- ending the flags.
func TestFlagConventions(t *testing.T) {
	pod := writeFile(t, t.TempDir(), "pod.yaml", privilegedPod)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"-o json", []string{"scan", "-o", "json", pod}},
		{"-ojson", []string{"scan", "-ojson", pod}},
		{"-o=json", []string{"scan", "-o=json", pod}},
		{"--format=json", []string{"scan", "--format=json", pod}},
		{"flags after the path", []string{"scan", pod, "--format", "json", "--level", "baseline"}},
		{"-- ends the flags", []string{"scan", "-ojson", "--", pod}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args, "")
			if code != ExitFindings {
				t.Fatalf("exit %d, want %d\n%s", code, ExitFindings, stderr)
			}
			if r := decodeReport(t, stdout); r.Summary.Objects != 1 {
				t.Errorf("%d objects, want 1", r.Summary.Objects)
			}
		})
	}
}

// TestMistypedFlag: a wrong flag is an error naming it and the closest
// flag, not the whole help.
func TestMistypedFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--fail-onn", "high", "x"}, "unknown flag: --fail-onn (did you mean --fail-on?)"},
		{[]string{"scan", "--levle", "baseline", "x"}, "(did you mean --level?)"},
		{[]string{"scan", "-level", "baseline", "x"}, "(did you mean --level?)"},
		{[]string{"scan", "--fail", "high", "x"}, "(did you mean --fail-on?)"},
		{[]string{"rbac", "can-i", "get", "pods", "--as-grop", "x"}, "(did you mean --as-group?)"},
		{[]string{"cluster", "--kubconfig", "x"}, "(did you mean --kubeconfig?)"},
		{[]string{"webhook", "serve", "--cert-file", "x"}, "unknown flag: --cert-file"},
		{[]string{"checks", "--frobnicate"}, "unknown flag: --frobnicate\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args, "")
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitError, tc.want)
			}
			if stdout != "" || strings.Contains(stderr, "Flags:") {
				t.Errorf("the help was printed:\n%s%s", stdout, stderr)
			}
			if n := strings.Count(stderr, "\n"); n > 2 {
				t.Errorf("%d lines on stderr, want the error and where to find help:\n%s", n, stderr)
			}
		})
	}
}

// TestHelp: help asked for goes to standard output with exit 0, shows
// flags as --flag, and every command and command group has examples.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"},
		{"scan", "--help"}, {"scan", "-h"}, {"help", "scan"},
		{"cluster", "--help"}, {"checks", "--help"}, {"version", "--help"},
		{"rbac", "--help"}, {"help", "rbac"}, {"rbac", "can-i", "--help"}, {"help", "rbac", "who-can"},
		{"rbac", "risks", "--help"}, {"rbac", "paths", "--help"},
		{"webhook", "--help"}, {"webhook", "serve", "--help"}, {"webhook", "certs", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(args, "")
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if !strings.Contains(stdout, "Usage:") || !strings.Contains(stdout, "Examples:") {
				t.Errorf("help lacks a usage line or examples:\n%s", stdout)
			}
			if _, flags, ok := strings.Cut(stdout, "\nFlags:\n"); ok {
				for _, line := range strings.Split(strings.TrimSpace(flags), "\n") {
					if f := strings.Fields(line); !strings.HasPrefix(f[0], "--") && !strings.HasPrefix(f[len(f)-1], "--") && !strings.Contains(line, ", --") {
						t.Errorf("flag not shown as --flag: %q", line)
					}
				}
			}
		})
	}
	// The scan help is scan's, however asked for.
	_, a, _ := runCLI([]string{"help", "scan"}, "")
	_, b, _ := runCLI([]string{"scan", "--help"}, "")
	if a != b || !strings.Contains(a, "kubeguard scan") || !strings.Contains(a, "--fail-on") {
		t.Errorf("help scan differs from scan --help:\n%s\n---\n%s", a, b)
	}
	// Not asked for: the usage is an error, on standard error.
	for _, args := range [][]string{{}, {"rbac"}, {"webhook"}} {
		code, stdout, stderr := runCLI(args, "")
		if code != ExitError || stdout != "" || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%q: exit %d, stdout %q; want %d and the usage on stderr", args, code, stdout, ExitError)
		}
	}
}
