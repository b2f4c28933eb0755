//go:build !unix

// Package cputime reads the CPU time the process has used. Benchmarks
// report it per operation (cpu-ms/op) beside wall time: on a shared
// machine it moves less than wall time does.
package cputime

import "time"

// Used is not measured outside Unix: benchmarks report zero.
func Used() time.Duration { return 0 }
