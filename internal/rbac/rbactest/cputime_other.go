//go:build !unix

package rbactest

import "time"

// CPUTime is not measured outside Unix: benchmarks report zero.
func CPUTime() time.Duration { return 0 }
