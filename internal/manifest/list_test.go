package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	var names []string
	var parts []string
	Ordered(context.Background(), &Source{Paths: []string{dir}}, 4, func(u Unit) []string {
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
