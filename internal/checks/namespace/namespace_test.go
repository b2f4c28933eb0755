package namespace_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/namespace"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", namespace.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(namespace.Checks); err != nil {
		t.Fatal(err)
	}
}
