package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// laughs returns a "billion laughs" ConfigMap: levels lists of ten aliases
// to the list before, 10^levels strings once expanded, in a few hundred
// bytes. List lNN is on line 6+NN.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n")
	b.WriteString("  l00: &l00 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= levels; i++ {
		b.WriteString("  l" + itoa(i) + ": &l" + itoa(i) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// nested returns a Pod whose spec nests depth flow sequences, on line 6.
func nested(depth int) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\nspec:\n  x: " +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestParseRefusesHostileDocuments(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	tests := []struct {
		name string
		doc  string
		line int // of the document, which starts on line 10 of its file
		want string
		// maxAlloc bounds what refusing the document may allocate, parse
		// included.
		maxAlloc uint64
	}{
		{
			// l05 is the first list past the limit: 1,111,111 nodes.
			name: "billion laughs", doc: laughs(9), line: 10 + 11 - 1,
			want: `"billion laughs"`, maxAlloc: 1 << 20,
		},
		{
			// Few nodes, but each alias repeats a megabyte.
			name: "aliased long string", doc: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  s: &s " + long + "\n  l: [" + strings.Repeat("*s, ", 200) + "*s]\n",
			line: 10 + 7 - 1, want: "beyond 1048576 nodes or 67108864 bytes", maxAlloc: 8 << 20,
		},
		{
			name: "alias cycle", doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: &a\n  <<: *a\n",
			line: 10 + 6 - 1, want: "alias *a refers to a node that contains it", maxAlloc: 1 << 20,
		},
		{
			name: "deep nesting", doc: nested(MaxDepth + 10), line: 10 + 6 - 1,
			want: "nesting deeper than 256 levels", maxAlloc: 4 << 20,
		},
		{
			name: "deep block nesting", doc: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" + deepBlock(300),
			line: 10 + 5 + MaxDepth - 1, want: "nesting deeper than 256 levels", maxAlloc: 8 << 20,
		},
		{
			name: "deeper than the parser allows", doc: nested(20000), line: 10 + 6 - 1,
			want: "invalid YAML: exceeded max depth of 10000", maxAlloc: 64 << 20,
		},
		{
			name: "oversized document", doc: "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: " + strings.Repeat("a", MaxDocumentSize),
			line: 10, want: fmt.Sprintf("document is %d bytes, over the limit of 33554432", len("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: ")+MaxDocumentSize), maxAlloc: 1 << 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := Document{Data: []byte(tt.doc), Line: 10}
			var (
				objs []*finding.ObjectRef
				errs []finding.InputError
			)
			n := allocated(func() {
				os, es := Parse("hostile.yaml", doc)
				for _, o := range os {
					objs = append(objs, &o.Ref)
				}
				errs = es
			})
			if len(objs) != 0 || len(errs) != 1 {
				t.Fatalf("got %d objects and errors %v, want one error", len(objs), errs)
			}
			e := errs[0]
			if e.Location.File != "hostile.yaml" || e.Location.Line != tt.line {
				t.Errorf("error at %s, want hostile.yaml:%d", e.Location, tt.line)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("error %q does not say %q", e.Message, tt.want)
			}
			if n > tt.maxAlloc {
				t.Errorf("refusing the document allocated %d bytes, want at most %d", n, tt.maxAlloc)
			}
		})
	}
}

// deepBlock nests depth block mappings.
func deepBlock(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat(" ", 2*(i+1)))
		b.WriteString("a:\n")
	}
	return b.String()
}

// TestParseBillionLaughsAllocs holds refusing a billion laughs to a fixed
// number of allocations, whatever the expansion would have been.
func TestParseBillionLaughsAllocs(t *testing.T) {
	small := Document{Data: []byte(laughs(4)), Line: 1} // 10^4 strings: accepted
	big := Document{Data: []byte(laughs(9)), Line: 1}   // 10^9 strings: refused
	if _, errs := Parse("small.yaml", small); len(errs) != 0 {
		t.Fatalf("10^4 laughs refused: %v", errs)
	}
	a := testing.AllocsPerRun(5, func() { Parse("small.yaml", small) })
	b := testing.AllocsPerRun(5, func() { Parse("big.yaml", big) })
	if b > 2*a+100 {
		t.Errorf("refusing 10^9 laughs took %.0f allocations, 10^4 laughs %.0f: the cost grows with the expansion", b, a)
	}
}

// TestStreamGoesOnAfterBadInput checks that a bad document is an error at
// its file and line while the other documents of its file, and the other
// files, are still read.
func TestStreamGoesOnAfterBadInput(t *testing.T) {
	dir := t.TempDir()
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
	}
	files := map[string]string{
		"a.yaml": pod("first") + // lines 1-8
			"---\napiVersion: v1\nkind: Pod\nmetadata: {name: [}\n" + // 9-12: invalid YAML on line 12
			"---\n" + laughs(9) + // 13-28: alias bomb, l05 on line 13+11
			"---\n" + nested(300) + // 29-35: nesting, on line 29+6
			"---\n" + pod("last"),
		"b.yaml":      pod("other"),
		"c.yaml":      "kind: Pod\nmetadata:\n  name: noversion\n",
		"d/e.yaml":    "\xff\xfe not yaml: [\n",
		"f.json":      `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "json"}}`,
		"g.yaml":      "---\n# only a comment\n---\n",
		"h.txt":       "not read",
		".hidden.yml": pod("hidden"),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := &Source{Paths: []string{dir}}
	var (
		mu    sync.Mutex
		names []string
		errs  []string
	)
	readErrs := src.Stream(context.Background(), 2, func(u Unit) {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range u.Objects {
			names = append(names, filepath.Base(u.File)+":"+o.Ref.Name)
		}
		for _, e := range u.Errors {
			errs = append(errs, strings.TrimPrefix(e.Location.String(), dir+string(filepath.Separator))+" "+e.Message)
		}
	})
	if len(readErrs) != 0 {
		t.Errorf("read errors: %v", readErrs)
	}
	slices.Sort(names)
	if want := []string{"a.yaml:first", "a.yaml:last", "b.yaml:other", "f.json:json"}; !slices.Equal(names, want) {
		t.Errorf("objects read: %q, want %q", names, want)
	}
	slices.Sort(errs)
	want := []string{
		"a.yaml:12 invalid YAML: did not find expected node content",
		"a.yaml:24 YAML aliases expand the document beyond 1048576 nodes or 67108864 bytes (a \"billion laughs\" document)",
		"a.yaml:35 nesting deeper than 256 levels",
		"c.yaml:1 Pod object has no apiVersion",
		"d/e.yaml:1 invalid YAML: incomplete UTF-16 character",
	}
	if !slices.Equal(errs, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseTakesLargeLiteralDocuments checks that the expansion limits are
// about aliases: a document past them by its own text (a List of a whole
// cluster, say), parsed by yaml.v3, is read.
func TestParseTakesLargeLiteralDocuments(t *testing.T) {
	if testing.Short() {
		t.Skip("parses a million nodes")
	}
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big # caf\u00e9: not ASCII, so yaml.v3 parses it\nbinaryData:\n  x:\n")
	for range MaxExpandedNodes + 1000 {
		b.WriteString("  - a\n")
	}
	doc := Document{Data: []byte(b.String()), Line: 1}
	if _, fast := parseFast(doc.Data, nil); fast {
		t.Fatal("took the fast path; the test is about the yaml.v3 one")
	}
	objs, errs := Parse("big.yaml", doc)
	if len(objs) != 1 || len(errs) != 0 {
		t.Fatalf("%d objects, errors %v; want the ConfigMap", len(objs), errs)
	}
}
