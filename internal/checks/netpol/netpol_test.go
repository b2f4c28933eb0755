package netpol_test

import (
	"context"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/netpol"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/run"
)

// TestChecks scans each fixture through the run layer's file pipeline, as
// kubeguard scan does: the checks that relate policies to pods read the
// summary of pods it makes before the main pass.
func TestChecks(t *testing.T) {
	checktest.Fixtures(t, "testdata", netpol.Checks, false, func(t *testing.T, path string) []finding.Finding {
		return scan(t, netpol.Checks, path)
	})
}

func scan(t *testing.T, cs []check.Check, paths ...string) []finding.Finding {
	t.Helper()
	r := run.ScanReport(context.Background(), &manifest.Source{Paths: paths}, cs, checktest.DefaultOptions, 2, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("input errors: %v", r.Errors)
	}
	return r.Findings
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(netpol.Checks); err != nil {
		t.Fatal(err)
	}
}
