package workload_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/workload"
)

func TestChecks(t *testing.T) {
	checktest.Run(t, "testdata", workload.Checks)
}
