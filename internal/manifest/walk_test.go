//go:build unix

package manifest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWalkReadsRegularFilesOnly: a named pipe hung the scan and a link to
// /dev/zero read 256 MiB; both are skipped with an error naming them,
// while regular files and links to them are read.
func TestWalkReadsRegularFilesOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml")
	if err := syscall.Mkfifo(filepath.Join(dir, "b-fifo.yaml"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("/dev/zero", "c-zero.yaml")
	link("a.yaml", "d-link.yaml")
	link("missing.yaml", "e-dangling.yaml")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	link("sub", "f-dir.yaml")

	s := &Source{Paths: []string{dir}}
	files, errs := s.Files()
	if d := cmp.Diff([]string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "d-link.yaml")}, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	got := map[string]string{}
	for _, e := range errs {
		got[filepath.Base(e.Location.File)] = e.Message
	}
	want := map[string]string{
		"b-fifo.yaml":     "skipped: a named pipe, not a regular file",
		"c-zero.yaml":     "skipped: a symbolic link to a character device, not a regular file",
		"e-dangling.yaml": "stat: no such file or directory",
		"f-dir.yaml":      "skipped: a symbolic link to a directory, not a regular file",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}
