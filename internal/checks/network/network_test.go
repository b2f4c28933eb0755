package network_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/network"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", network.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(network.Checks); err != nil {
		t.Fatal(err)
	}
}
