package rbac

// RisksOn and PathsOn run the analyses on a given number of goroutines, for
// the tests that hold the parallel analyses to the sequential one.
var (
	RisksOn = risks
	PathsOn = paths
)
