package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kubeguard/kubeguard/internal/object"
)

// TestListItemsStreamInParts: a List's items reach the caller in parts of
// at most PartSize objects, in order, instead of in one unit holding the
// findings of every item at once; a List inside a List is scanned too.
func TestListItemsStreamInParts(t *testing.T) {
	const n = 2*PartSize + 10
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n---\napiVersion: v1\nkind: List\nitems:\n")
	for i := range n {
		fmt.Fprintf(&b, "- {apiVersion: v1, kind: Pod, metadata: {name: p%d}}\n", i)
	}
	b.WriteString("- apiVersion: v1\n  kind: PodList\n  items:\n  - {apiVersion: v1, kind: Pod, metadata: {name: nested}}\n")
	b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "list.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Parsed whole (the List is small), and cut into its items.
	for _, splitMin := range []int{0, 1} {
		t.Run(fmt.Sprint("splitMin=", splitMin), func(t *testing.T) {
			testListParts(t, dir, splitMin, n)
		})
	}
}

func testListParts(t *testing.T, dir string, splitMin, n int) {
	var names []string
	var parts []string
	Ordered(context.Background(), &Source{Paths: []string{dir}, splitMin: splitMin}, 4, func(u Unit) []string {
		if len(u.Objects) > PartSize {
			t.Errorf("unit of %d objects", len(u.Objects))
		}
		var ns []string
		for _, o := range u.Objects {
			ns = append(ns, o.Ref.Name)
		}
		return ns
	}, func(u Unit, ns []string) {
		names = append(names, ns...)
		parts = append(parts, fmt.Sprintf("%d.%d more=%v last=%v", u.DocSeq, u.Part, u.More, u.Last))
	})
	want := []string{"0.0 more=false last=false", "1.0 more=true last=false", "1.1 more=true last=false", "1.2 more=false last=false", "2.0 more=false last=true"}
	if strings.Join(parts, ", ") != strings.Join(want, ", ") {
		t.Errorf("parts %v, want %v", parts, want)
	}
	if len(names) != n+3 || names[0] != "before" || names[1] != "p0" || names[n] != "p"+fmt.Sprint(n-1) || names[n+1] != "nested" || names[n+2] != "after" {
		t.Errorf("%d objects, in order? first %v, last %v", len(names), names[:3], names[len(names)-3:])
	}
}

// TestLargeListMemoryFlat: 100,000 pods in one List, as block YAML and as
// JSON on one line (columns past 14 million), stream through Stream
// with the heap bounded by a chunk's tree, not the List's: parsed whole,
// the YAML List's tree alone took about 900 MiB. The objects come in order
// with their lines and columns.
func TestLargeListMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 100,000 pods")
	}
	const n = 100_000
	var y, j strings.Builder
	y.WriteString("apiVersion: v1\nitems:\n")
	j.WriteString(`{"items":[`)
	for i := range n {
		fmt.Fprintf(&y, "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p%d\n    namespace: ns\n  spec:\n    containers:\n    - name: c\n      image: nginx:1.25\n", i)
		if i > 0 {
			j.WriteString(",")
		}
		fmt.Fprintf(&j, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","namespace":"ns"},"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}}`, i)
	}
	y.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	j.WriteString(`],"apiVersion":"v1","kind":"List"}`)
	dir := t.TempDir()
	for name, text := range map[string]string{"list.yaml": y.String(), "list.json": j.String()} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			var (
				ms    runtime.MemStats
				peak  uint64
				seen  int
				parts int
			)
			(&Source{Paths: []string{path}}).Stream(context.Background(), 1, func(u Unit) {
				for _, e := range u.Errors {
					t.Errorf("error: %s", e)
				}
				for _, o := range u.Objects {
					if o.Ref.Name != fmt.Sprintf("p%d", seen) {
						t.Fatalf("object %d is %s", seen, o.Ref.Name)
					}
					line, col := 3+9*seen, 3
					if name == "list.json" {
						line, col = 1, 11+len(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}},`)*seen+seen // one digit each, and
						for k := 10; k <= seen; k *= 10 {
							col += seen - k // more for the names past 9, 99, ...
						}
					}
					if o.Source.Line != line || o.Source.Column != col {
						t.Fatalf("object %d at %d:%d, want %d:%d", seen, o.Source.Line, o.Source.Column, line, col)
					}
					seen++
				}
				if parts++; parts%50 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			})
			if seen != n {
				t.Fatalf("%d objects, want %d", seen, n)
			}
			// The text (14 or 13 MB) is held; the trees of a chunk or two
			// and the garbage of those before come on top, but nothing
			// near the whole tree's.
			if limit := uint64(200 << 20); peak > limit {
				t.Errorf("heap in use reached %d MiB, over %d MiB", peak>>20, limit>>20)
			}
			t.Logf("%d parts, heap in use at most %d MiB", parts, peak>>20)

			// Visit, the pass before the main one, cuts the List too.
			runtime.GC()
			var visited atomic.Int64
			peak = 0
			(&Source{Paths: []string{path}}).Visit(func([]byte) bool { return true }, func(o *object.Object) {
				if visited.Add(1)%5000 == 0 {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			})
			if visited.Load() != n {
				t.Fatalf("Visit: %d objects, want %d", visited.Load(), n)
			}
			if limit := uint64(200 << 20); peak > limit {
				t.Errorf("Visit: heap in use reached %d MiB, over %d MiB", peak>>20, limit>>20)
			}
			t.Logf("Visit: heap in use at most %d MiB", peak>>20)
		})
	}
}

// TestLargeListHugeItem: a List of one item larger than a chunk, and of
// large items among small ones, gives what the whole parse gives.
func TestLargeListHugeItem(t *testing.T) {
	big := func(name string, keys int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: %s}\n  data:\n", name)
		for i := range keys {
			fmt.Fprintf(&b, "    k%d: value %d\n", i, i)
		}
		return b.String()
	}
	one := "apiVersion: v1\nkind: List\nitems:\n" + big("huge", 40_000)
	var mixed strings.Builder
	mixed.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for i := range 600 {
		if i%200 == 7 {
			mixed.WriteString(big(fmt.Sprintf("big%d", i), 20_000))
			continue
		}
		fmt.Fprintf(&mixed, "- {apiVersion: v1, kind: Pod, metadata: {name: p%d}}\n", i)
	}
	for name, text := range map[string]string{"one huge item": one, "huge items among small": mixed.String()} {
		t.Run(name, func(t *testing.T) {
			if len(text) < maxChunk {
				t.Fatalf("%d bytes: not larger than a chunk", len(text))
			}
			lt, ok := cutList([]byte(text))
			if !ok {
				t.Fatal("not cut")
			}
			// A chunk holds at most maxChunk bytes of items and then one
			// more item, of 460 KB at most here.
			for _, c := range lt.chunks {
				if c.items > 1 && c.end-c.start > maxChunk+460_000 {
					t.Errorf("a chunk of %d items and %d bytes", c.items, c.end-c.start)
				}
			}
			var a Arena
			if checkSplit(t, &a, "big.yaml", []byte(text)) != 1 {
				t.Fatal("not cut")
			}
		})
	}
}
