package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func pod(name string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: a\nspec:\n  containers: [{name: c, image: x}]\n"
}

// TestCollectKeepsContentsForStream checks that the main pass reads again
// only the files the pre-pass could not keep: a file rewritten between the
// passes is seen as the pre-pass read it when it was kept, and as it is now
// when it was past the bound.
func TestCollectKeepsContentsForStream(t *testing.T) {
	ns := func(name string) string {
		return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n"
	}
	for _, tc := range []struct {
		name    string
		maxHeld int64
		want    []string // objects Stream sees, in file order
	}{
		{name: "all kept", maxHeld: 0, want: []string{"1.yaml:Pod/before-1", "2.yaml:Namespace/a", "2.yaml:Pod/before-2", "3.yaml:Pod/before-3"}},
		// The first two files fit, the third (the largest) does not and is
		// read again, whichever order the pre-pass reads them in.
		{name: "bounded", maxHeld: int64(len(pod("before-1")) + len(ns("a")) + len("---\n") + len(pod("before-2"))), want: []string{"1.yaml:Pod/before-1", "2.yaml:Namespace/a", "2.yaml:Pod/before-2", "3.yaml:Pod/after-3"}},
		{name: "none kept", maxHeld: 1, want: []string{"1.yaml:Pod/after-1", "2.yaml:Namespace/a", "2.yaml:Pod/after-2", "3.yaml:Pod/after-3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			write := func(prefix string) {
				for i, data := range []string{pod(prefix + "-1"), ns("a") + "---\n" + pod(prefix+"-2"), pod(prefix+"-3") + "# " + strings.Repeat("padding ", 40) + "\n"} {
					if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.yaml", i+1)), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			write("before")
			src := &Source{Paths: []string{dir}, maxHeld: tc.maxHeld}
			got := src.Collect([]string{"Namespace"})
			if len(got) != 1 || got[0].Ref.Name != "a" {
				t.Fatalf("Collect: %v, want Namespace a", got)
			}
			write("after")
			var (
				mu   sync.Mutex
				seen []string
			)
			if errs := src.Stream(context.Background(), 2, func(u Unit) {
				mu.Lock()
				defer mu.Unlock()
				for _, o := range u.Objects {
					seen = append(seen, fmt.Sprintf("%d %d %s:%s/%s", u.FileSeq, u.DocSeq, filepath.Base(u.File), o.Ref.Kind, o.Ref.Name))
				}
			}); len(errs) > 0 {
				t.Fatal(errs)
			}
			slices.Sort(seen)
			for i := range seen {
				seen[i] = seen[i][4:]
			}
			if diff := cmp.Diff(tc.want, seen); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if slices.ContainsFunc(src.held, func(b []byte) bool { return b != nil }) {
				t.Error("contents still held after the main pass")
			}
		})
	}
}

// TestStreamUnits: every file yields units that end with one marked Last,
// an empty file and an unreadable one included, so that a reader of the
// units knows when a file is done; a file's read error comes in its unit.
func TestStreamUnits(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"a.yaml": pod("a1") + "---\n" + pod("a2") + "---\n" + pod("a3"),
		"b.yaml": "",
		"c.yaml": "# only a comment\n",
		"d.yaml": pod("d1"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "bb.yaml")); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		seen []string
	)
	errs := (&Source{Paths: []string{dir}}).Stream(context.Background(), 3, func(u Unit) {
		mu.Lock()
		defer mu.Unlock()
		s := fmt.Sprintf("%d %d %s objects=%d last=%v", u.FileSeq, u.DocSeq, filepath.Base(u.File), len(u.Objects), u.Last)
		for _, e := range u.Errors {
			s += " error=" + e.Message
		}
		seen = append(seen, s)
	})
	// A dangling link stays in the list, and its read error comes in its
	// unit, as any unreadable file's does.
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	slices.Sort(seen)
	want := []string{
		"0 0 a.yaml objects=1 last=false",
		"0 1 a.yaml objects=1 last=false",
		"0 2 a.yaml objects=1 last=true",
		"1 0 b.yaml objects=0 last=true",
		"2 0 bb.yaml objects=0 last=true error=open: no such file or directory",
		"3 0 c.yaml objects=0 last=true",
		"4 0 d.yaml objects=1 last=true",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("units (-want +got):\n%s", diff)
	}
}

// TestFilesOnce: a file reached more than once through the paths given is
// read once, where it is first reached.
func TestFilesOnce(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(sub, "b.yaml")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, []byte(pod("p")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"same file twice", []string{a, a}, []string{a}},
		{"same directory twice", []string{dir, dir}, []string{a, b}},
		{"a directory and a file in it", []string{b, dir}, []string{b, a}},
		{"unclean spelling", []string{dir, sub + "/../sub/./b.yaml"}, []string{a, b}},
		{"standard input twice", []string{"-", "-"}, []string{StdinName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &Source{Paths: tc.paths}
			files, errs := src.Files()
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if diff := cmp.Diff(tc.want, files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}
