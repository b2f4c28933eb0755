package secrets_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"

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

// TestHardcodedCredentialAlone runs the check of every kind without the
// checks of pod templates, which otherwise decode the template for it: it
// must decode the template itself and find the same credentials.
func TestHardcodedCredentialAlone(t *testing.T) {
	path := filepath.Join("testdata", "hardcoded-credential.yaml")
	alone, err := checktest.Scan(path, []check.Check{secrets.HardcodedCredential}, checktest.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	withOthers, err := checktest.Scan(path, secrets.Checks, checktest.DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	withOthers = slices.DeleteFunc(withOthers, func(f finding.Finding) bool { return f.CheckID != secrets.HardcodedCredential.ID })
	if len(alone) == 0 {
		t.Fatal("no findings")
	}
	if diff := cmp.Diff(withOthers, alone); diff != "" {
		t.Errorf("findings alone differ (-with others +alone):\n%s", diff)
	}
}
