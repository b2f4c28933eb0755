package cli

import (
	"os"
	"runtime/debug"
)

// collectAt sets the garbage collector's target to percent, unless the
// user set GOGC, and returns what restores the previous one. Each command
// that calls it says why its heap wants another target than the default.
func collectAt(percent int) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
}
