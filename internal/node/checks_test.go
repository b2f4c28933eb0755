package node

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the want files of testdata/cases")

// now is the fixtures' "today": their certificates are judged against it.
var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// TestCases runs every check over each node under testdata/cases/NAME/root
// and compares the findings and errors with testdata/cases/NAME/want, one
// "check-id location reason" line each (-update rewrites them; review the
// diff). The files are copied with mode 0600 first, as the checks'
// permission rules want, so that only the file-permission cases (whose
// modes file lists other modes) judge permissions; ownership depends on
// who runs the test and is tested on its own.
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			root := copyRoot(t, filepath.Join(dir, "root"), filepath.Join(dir, "modes"))
			var n *Node
			if paths, err := os.ReadFile(filepath.Join(dir, "paths")); err == nil {
				var ps []string
				for _, p := range strings.Fields(string(paths)) {
					ps = append(ps, filepath.Join(root, p))
				}
				n = ReadPaths(Host{Root: root}, ps)
			} else {
				n = Read(Host{Root: root}, DefaultLayout)
			}
			cs := slices.DeleteFunc(Checks(), func(c Check) bool { return c.ID == "node-file-ownership" })
			fs, errs := Evaluate(n, cs, Options{Now: now})
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s %s %s: %s", f.CheckID, f.Severity, strings.ReplaceAll(f.Location.String(), root, ""), f.Reason))
			}
			for _, e := range errs {
				got = append(got, fmt.Sprintf("ERROR %s: %s", strings.ReplaceAll(e.Location.String(), root, ""), strings.ReplaceAll(e.Message, root, "")))
			}
			slices.Sort(got)
			for _, l := range got {
				// The fixtures' keys all start so; no key may reach a report.
				if strings.Contains(l, "MDEyMzQ1Njc4") {
					t.Errorf("key material in %q", l)
				}
			}
			wantFile := filepath.Join(dir, "want")
			if *update {
				if err := os.WriteFile(wantFile, []byte(strings.Join(append(got, ""), "\n")), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, l := range strings.Split(string(data), "\n") {
				if l != "" {
					want = append(want, l)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// copyRoot copies a fixture root to a temporary directory, every file
// with mode 0600 unless the modes file ("0644 etc/kubernetes/pki/ca.crt"
// lines) says otherwise.
func copyRoot(t *testing.T, src, modesFile string) string {
	t.Helper()
	modes := map[string]fs.FileMode{}
	if data, err := os.ReadFile(modesFile); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var m uint32
			var p string
			if _, err := fmt.Sscanf(l, "%o %s", &m, &p); err != nil {
				t.Fatalf("%s: %q: %v", modesFile, l, err)
			}
			modes[p] = fs.FileMode(m)
		}
	}
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			mode := fs.FileMode(0o755)
			if m, ok := modes[rel]; ok {
				mode = m
			}
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return os.Chmod(target, mode)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o600)
		if m, ok := modes[rel]; ok {
			mode = m
		}
		if err := os.WriteFile(target, data, mode); err != nil {
			return err
		}
		return os.Chmod(target, mode)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestChecksValid holds the catalogue to the rules of every kubeguard
// check, and each to a unique ID.
func TestChecksValid(t *testing.T) {
	if err := check.Validate(Metadata(Checks())); err != nil {
		t.Fatal(err)
	}
	for _, c := range Checks() {
		if c.run == nil {
			t.Errorf("%s: no run", c.ID)
		}
		if c.Category != Category {
			t.Errorf("%s: category %q", c.ID, c.Category)
		}
	}
}

// TestOwnership judges files by their owner.
func TestOwnership(t *testing.T) {
	n := &Node{Files: []File{
		{Display: "/etc/kubernetes/admin.conf", Role: RoleKubeconfig, Mode: 0o600, UID: 0, GID: 0},
		{Display: "/etc/kubernetes/manifests/etcd.yaml", Role: RoleManifest, Mode: 0o600, UID: 1000, GID: 0},
		{Display: "/var/lib/etcd", Role: RoleEtcdData, Mode: 0o700, UID: 999, GID: 999},
	}}
	cs := slices.DeleteFunc(Checks(), func(c Check) bool { return c.ID != "node-file-ownership" })
	fs, _ := Evaluate(n, cs, Options{})
	var got []string
	for _, f := range fs {
		got = append(got, f.Location.File+": "+f.Reason)
	}
	want := []string{"/etc/kubernetes/manifests/etcd.yaml: static pod manifest is owned by 1000:0, not root:root"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_ = finding.Info
}
