package workload_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/workload"
)

// fixtureOptions are the options every fixture runs with. Checks with
// parameters say nothing without them, and every check needs its fixtures
// in testdata, so the parameters are set for the whole directory: fixtures
// take images from these registries unless they test image-registry.
// parameters_test.go covers the checks' behaviour without parameters.
var fixtureOptions = func() check.Options {
	o := checktest.DefaultOptions
	o.AllowedRegistries = []string{"registry.example.com", "registry.internal:5000", "ghcr.io/example-org"}
	o.TrustedHostPaths = []string{"/var/lib/docker/containers"}
	return o
}()

func TestChecks(t *testing.T) {
	checktest.RunWith(t, "testdata", workload.Checks, fixtureOptions)
}
