package serviceaccount

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// TestScanArg holds the command the subject-namespace fix writes to one a
// shell runs: standard input is "-", not "<stdin>" (a redirection).
func TestScanArg(t *testing.T) {
	for in, want := range map[string]string{finding.StdinName: "-", "deploy/install.yaml": "deploy/install.yaml"} {
		if got := scanArg(in); got != want {
			t.Errorf("scanArg(%q) = %q, want %q", in, got, want)
		}
	}
}
