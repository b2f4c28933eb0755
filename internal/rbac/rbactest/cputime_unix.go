//go:build unix

package rbactest

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time the process has used, user and system, on every
// thread: the RBAC benchmarks report it beside wall time, which a loaded
// machine stretches.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
