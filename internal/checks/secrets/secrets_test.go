package secrets_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", secrets.Checks)
}

func TestRegistry(t *testing.T) {
	if err := check.Validate(secrets.Checks); err != nil {
		t.Fatal(err)
	}
}
