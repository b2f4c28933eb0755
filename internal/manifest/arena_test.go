package manifest

import (
	"strings"
	"testing"
)

// TestArenaReuse parses documents of growing and shrinking size into one
// arena, as a worker of Stream does, and holds each tree to a parse into
// new memory; a tree kept past Reset must read as empty.
func TestArenaReuse(t *testing.T) {
	doc := func(n int) []byte {
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n")
		for i := range n {
			b.WriteString("  k")
			b.WriteString(strings.Repeat("x", i%7))
			b.WriteString(": [a, b]\n")
		}
		return []byte(b.String())
	}
	var a Arena
	for _, n := range []int{3, 500, 1, 40, maxKept, 2, 0, 70} {
		d := doc(n)
		got, ok := parseFast(d, &a)
		if !ok {
			t.Fatalf("%d keys: left the fast path", n)
		}
		want, _ := parseFast(d, nil)
		if diff := diffNodes("", got, want); diff != "" {
			t.Fatalf("%d keys: %s", n, diff)
		}
		a.Reset()
		if got.Kind != 0 || got.Content != nil {
			t.Fatalf("%d keys: a tree kept past Reset still reads as kind %v with %d children", n, got.Kind, len(got.Content))
		}
	}
	if a.nodes.kept > maxKept || a.ptrs.kept > maxKept {
		t.Errorf("arena keeps %d nodes and %d pointers, over %d", a.nodes.kept, a.ptrs.kept, maxKept)
	}
}
