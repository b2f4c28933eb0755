package object_test

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/corpus"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// BenchmarkPodTemplateParsed is BenchmarkPodTemplate on the trees a scan
// decodes: those of manifest.Parse, whose fast parser lays nodes out in
// slabs, rather than yaml.v3's.
func BenchmarkPodTemplateParsed(b *testing.B) {
	var objs []*object.Object
	_, err := corpus.Generate(corpus.Options{N: 300, Seed: 7}, func(f corpus.File) error {
		for _, d := range manifest.Split(f.Data) {
			parsed, errs := manifest.Parse("bench.yaml", d)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			for _, o := range parsed {
				if _, ok := o.TemplatePath(); ok {
					objs = append(objs, o)
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := objs[i%len(objs)].PodTemplate(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
