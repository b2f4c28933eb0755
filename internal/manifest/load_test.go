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

// TestCollectKeepsContentsForStream checks that the main pass reads again
// only the files the pre-pass could not keep: a file rewritten between the
// passes is seen as the pre-pass read it when it was kept, and as it is now
// when it was past the bound.
func TestCollectKeepsContentsForStream(t *testing.T) {
	ns := func(name string) string {
		return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n"
	}
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: a\nspec:\n  containers: [{name: c, image: x}]\n"
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
