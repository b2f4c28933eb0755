package input_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/input"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", input.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(input.Checks); err != nil {
		t.Fatal(err)
	}
}
