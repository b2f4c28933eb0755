//go:build unix

package node

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFIFO gives a FIFO as a path and as the file a flag names: it is
// refused, not waited on.
func TestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	n := ReadPaths(Host{}, []string{fifo})
	if len(n.Errors) != 1 || !strings.Contains(n.Errors[0].Message, "not a regular file") {
		t.Errorf("errors %v", n.Errors)
	}
	if _, _, err := readFile(fifo); err == nil {
		t.Error("read a FIFO")
	}
}
