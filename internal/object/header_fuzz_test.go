package object

import (
	"reflect"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

var headerSeeds = []string{
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\n  labels: {a: b, 1: \"2\", true: x}\n  annotations:\n    k: |\n      text\n",
	"apiVersion: v1\nkind: Pod\nmetadata: ~\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: ~\n  labels: {a: b}\n  labels: {c: d}\n",
	"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {namespace: b}\nkind: ~\n",
	"apiVersion: v1\nkind: 1\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: 1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: !!str 3\n  labels: {a: ~, 'b': \"c\"}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  uid: x\n",
	"apiVersion: v1\n<<: {kind: Pod}\n",
	"apiVersion: &a v1\nkind: *a\n",
	"\"apiVersion\": v1\n'kind': Pod\nmetadata: []\n",
}

// FuzzHeaderMatchesJSON holds the direct header decoding to the JSON path
// it stands in for: whenever it takes a document, the JSON path must take
// it too and give the same header.
func FuzzHeaderMatchesJSON(f *testing.F) {
	for _, s := range headerSeeds {
		f.Add([]byte(s))
	}
	for _, d := range corpusDocs(f, 20) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
			return
		}
		root := doc.Content[0]
		var fast header
		if !fast.fromNodes(root) {
			return
		}
		o := &Object{root: root, Source: finding.Location{File: "f.yaml"}}
		var slow header
		if err := o.decode(o.headerNode(), &slow); err != nil {
			t.Fatalf("direct decoding took what the JSON path refuses (%v):\n%s", err, data)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("headers differ for\n%s\ndirect: %+v\nJSON:   %+v", data, fast, slow)
		}
	})
}

// TestHeaderFromNodesTakesUsualHeaders checks that the usual headers take
// the direct path (otherwise it would only cost time).
func TestHeaderFromNodesTakesUsualHeaders(t *testing.T) {
	for i, d := range corpusDocs(t, 50) {
		var doc yaml.Node
		if err := yaml.Unmarshal(d, &doc); err != nil {
			t.Fatal(err)
		}
		var h header
		if !h.fromNodes(doc.Content[0]) || h.Kind == "" || h.Metadata.Name == "" {
			t.Fatalf("document %d not decoded directly: %+v\n%s", i, h, d)
		}
	}
}
