//go:build unix

// Package cputime reads the CPU time the process has used. Benchmarks
// report it per operation (cpu-ms/op) beside wall time: on a shared
// machine it moves less than wall time does.
package cputime

import (
	"syscall"
	"time"
)

// Used is the CPU time the process has used so far, user and system, on
// every thread.
func Used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
