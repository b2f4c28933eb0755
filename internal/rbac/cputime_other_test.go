//go:build !unix

package rbac_test

import "time"

// cpuTime is not measured outside Unix: benchmarks report zero.
func cpuTime() time.Duration { return 0 }
