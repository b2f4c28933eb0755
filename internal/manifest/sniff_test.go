package manifest

import (
	"bytes"
	"testing"
)

func TestSniffKind(t *testing.T) {
	kinds := []string{"Namespace", "ServiceAccount"}
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{name: "plain", doc: "apiVersion: v1\nkind: Namespace\n", want: true},
		{name: "end of input", doc: "kind: Namespace", want: true},
		{name: "double quoted", doc: "kind: \"ServiceAccount\"\n", want: true},
		{name: "single quoted", doc: "kind: 'ServiceAccount'\n", want: true},
		{name: "JSON", doc: `{"apiVersion":"v1","kind":"Namespace"}`, want: true},
		{name: "flow", doc: "{apiVersion: v1, kind: Namespace}", want: true},
		{name: "block scalar", doc: "kind: |-\n  Namespace\n", want: true},
		{name: "anchor", doc: "x: &k Namespace\nkind: *k\n", want: true},
		{name: "tagged", doc: "kind: !!str Namespace\n", want: true},
		{name: "list item", doc: "kind: List\nitems:\n- kind: ServiceAccount\n", want: true},
		{name: "non-ASCII beside", doc: "kind: Namespaceé\n", want: true},
		{name: "part of a field name", doc: "kind: Pod\nspec:\n  automountServiceAccountToken: false\n", want: false},
		{name: "prefix of a word", doc: "kind: NamespaceList\n", want: false},
		{name: "suffix of a word", doc: "kind: MyNamespace\n", want: false},
		{name: "escape in the name", doc: "kind: \"N\\x61mespace\"\n", want: false},
		{name: "escapes and the name in a word", doc: "kind: Pod\nx: \"\\t\"\nautomountServiceAccountToken: true\n", want: true},
		{name: "absent", doc: "kind: Deployment\n", want: false},
		{name: "empty", doc: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffKind([]byte(tt.doc), kinds); got != tt.want {
				t.Errorf("sniffKind(%q) = %v, want %v", tt.doc, got, tt.want)
			}
		})
	}
}

// FuzzSniffKind holds the filter to the parser: a document whose text
// holds an object's kind name must never be filtered out. (A kind spelt
// only with escapes, "N\x61mespace", is not looked for: the name is not in
// the text.)
func FuzzSniffKind(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"))
	f.Add([]byte("kind: List\napiVersion: v1\nitems: [{apiVersion: v1, kind: \"ServiceAccount\"}]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec: {automountServiceAccountToken: false}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		for _, d := range Split(data) {
			objs, _ := Parse("f.yaml", d)
			for _, o := range objs {
				k := o.Ref.Kind
				if k == "" || !bytes.Contains(d.Data, []byte(k)) {
					continue
				}
				if !sniffKind(d.Data, []string{k}) {
					t.Errorf("sniffKind filtered out a document holding a %q object:\n%s", k, d.Data)
				}
				if !sniffKind(data, []string{k}) {
					t.Errorf("sniffKind filtered out a file holding a %q object:\n%s", k, data)
				}
			}
		}
	})
}
