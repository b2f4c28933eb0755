package object

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
	kjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

func benchObjects(b *testing.B) ([]*Object, []*yaml.Node) {
	var objs []*Object
	var roots []*yaml.Node
	for _, d := range corpusDocs(b, 300) {
		var root yaml.Node
		if err := yaml.Unmarshal(d, &root); err != nil {
			b.Fatal(err)
		}
		o, err := New(&root, finding.Location{File: "bench.yaml"}, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := o.TemplatePath(); ok {
			objs = append(objs, o)
			roots = append(roots, &root)
		}
	}
	return objs, roots
}

// BenchmarkEncoder measures the node-to-JSON encoder over whole objects,
// against sigs.k8s.io/yaml.YAMLToJSON (what kubectl does) on the same text.
func BenchmarkEncoder(b *testing.B) {
	_, roots := benchObjects(b)
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			e := encoder{budget: DefaultLimits.MaxNodes}
			if err := e.node(roots[i%len(roots)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	docs := corpusDocs(b, 300)
	b.Run("YAMLToJSON", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := sigsyaml.YAMLToJSON(docs[i%len(docs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkPodTemplate measures decoding a pod template into the typed
// structs, JSON conversion included, and the JSON decoding alone.
func BenchmarkPodTemplate(b *testing.B) {
	objs, _ := benchObjects(b)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := objs[i%len(objs)].PodTemplate(); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	var specs [][]byte
	for _, o := range objs {
		p, _ := o.TemplatePath()
		e := encoder{budget: DefaultLimits.MaxNodes}
		if err := e.node(o.Field(p.Key("spec"))); err != nil {
			b.Fatal(err)
		}
		specs = append(specs, e.buf)
	}
	b.Run("json-only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var t PodTemplate
			if err := kjson.UnmarshalCaseSensitivePreserveInts(specs[i%len(specs)], &t.Spec); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
