package object

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// parseObject is the object of a one-document test input.
func parseObject(t testing.TB, doc string) *Object {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	o, err := New(&root, finding.Location{File: "f.yaml"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestDuplicatesLinear: a mapping of 200,000 keys, each written twice,
// is read in one pass (a pairwise comparison would not end), and the
// findings stop at the limit.
func TestDuplicatesLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n")
	for range 2 {
		for i := range 100000 {
			fmt.Fprintf(&b, "  k%d: v\n", i)
		}
	}
	o := parseObject(t, b.String())
	start := time.Now()
	got := o.Duplicates(10)
	if len(got) != 10 {
		t.Fatalf("%d duplicates, want the limit of 10", len(got))
	}
	if got[0].Path.String() != "data.k0" || got[0].Dropped.Line != 5 || got[0].Kept.Line != 100005 {
		t.Errorf("first duplicate %s at %d, kept at %d; want data.k0 at 5, kept at 100005", got[0].Path, got[0].Dropped.Line, got[0].Kept.Line)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
}

// FuzzDuplicatesMatchYAML holds Duplicates to yaml.v3's own refusal of a
// key defined twice, on documents whose keys are all strings (kubectl
// writes every key as a string, so 1 and "1" are one key to it and two to
// yaml.v3).
func FuzzDuplicatesMatchYAML(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x, a: y}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - &b {name: a}\n  - <<: *b\n    name: b\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {x: [{y: 1, y: 2}]}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {a: 1, b: 2}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var root yaml.Node
		if yaml.Unmarshal([]byte(doc), &root) != nil || len(root.Content) != 1 || !stringKeys(&root, 0) {
			return
		}
		o, err := New(&root, finding.Location{File: "f.yaml"}, 0)
		if err != nil {
			return
		}
		var v any
		err = yaml.Unmarshal([]byte(doc), &v)
		theirs := err != nil && strings.Contains(err.Error(), "already defined")
		if err != nil && !theirs {
			return
		}
		if mine := len(o.Duplicates(1)) > 0; mine != theirs {
			t.Fatalf("Duplicates finds %v; yaml.v3 says %v", o.Duplicates(1), err)
		}
	})
}

// stringKeys reports whether every mapping key under n is a string to
// yaml.v3 and to kubectl alike (Y is a string to yaml.v3 and true to
// kubectl's YAML 1.1, so {Y, y} is a duplicate to kubectl alone), and no
// alias or merge key is used (yaml.v3 checks a mapping merged in against
// the keys beside it).
func stringKeys(n *yaml.Node, depth int) bool {
	if depth > 64 || n.Kind == yaml.AliasNode {
		return false
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			if c.Kind != yaml.ScalarNode || c.Tag != "!!str" || isMerge(c) {
				return false
			}
			if k, err := mapKey(c); err != nil || k != c.Value {
				return false
			}
		}
		if !stringKeys(c, depth+1) {
			return false
		}
	}
	return true
}

// fuzzObject is the object of a fuzzer's input, when it is one document
// that makes one.
func fuzzObject(data []byte) (*Object, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, false
	}
	o, err := New(&doc, finding.Location{File: "f.yaml"}, 0)
	return o, err == nil
}

// TestDuplicatesUnordered: keys of one text and two types (1 and "1") are
// marked, since kubectl keeps either; keys of one value are not, whatever
// their spelling (y and true are both true to kubectl's YAML 1.1).
func TestDuplicatesUnordered(t *testing.T) {
	o := parseObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  1: one\n  \"1\": two\n  y: three\n  true: four\n")
	got := o.Duplicates(10)
	if len(got) != 2 {
		t.Fatalf("%d duplicates, want 2: %+v", len(got), got)
	}
	if !got[0].Unordered || got[0].Path.String() != "data.1" {
		t.Errorf("1 and \"1\": %+v, want unordered at data.1", got[0])
	}
	if got[1].Unordered || got[1].Path.String() != "data.true" {
		t.Errorf("y and true: %+v, want ordered at data.true", got[1])
	}
}

// TestDuplicatesMergeBudget: merge keys that bring one long mapping many
// times (100 million keys in all) are read within the node budget.
func TestDuplicatesMergeBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbase: &m {")
	for i := range 10000 {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("last: v}\nitems:\n- {last: w, <<: *m}\n")
	for range 10000 {
		b.WriteString("- {other: w, <<: *m}\n") // nothing overridden, all read
	}
	o := parseObject(t, b.String())
	start := time.Now()
	got := o.Duplicates(10)
	if len(got) == 0 || !got[0].Merged || got[0].Path.String() != "items[0].last" {
		t.Fatalf("first override %+v, want items[0].last overridden by the merge", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}
