package netpol_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/netpol"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", netpol.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(netpol.Checks); err != nil {
		t.Fatal(err)
	}
}
