// Package workload holds the checks of containers and pod specs beyond the
// Pod Security Standards: the hardening the Kubernetes security
// documentation recommends for every workload.
package workload

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
)

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	ReadOnlyRootFilesystem,
	ResourceRequests,
	MemoryLimit,
	EphemeralStorageLimit,
	ImageTagLatest,
	ImageDigest,
	ImageRegistry,
	ImagePullPolicy,
	SensitiveHostPath,
	UnconfinedProfile,
	PrivilegedUnenforced,
}

func quote(s string) string { return strconv.Quote(s) }
