package manifest

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// benchDocs are generated manifests, as the whole-program benchmark reads
// them.
func benchDocs(b *testing.B) ([][]byte, int64) {
	docs := corpusDocuments(b, 500)
	var size int64
	for _, d := range docs {
		size += int64(len(d))
	}
	return docs, size
}

// BenchmarkParse measures Parse per document: the YAML parse and making
// the object (its header decoded).
func BenchmarkParse(b *testing.B) {
	docs, size := benchDocs(b)
	b.SetBytes(size / int64(len(docs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, errs := Parse("bench.yaml", Document{Data: docs[i%len(docs)], Line: 1}); len(errs) > 0 {
			b.Fatal(errs)
		}
		i++
	}
}

// BenchmarkParseYAML compares the parsers on the same documents: the fast
// path Parse uses, and gopkg.in/yaml.v3, the reference.
func BenchmarkParseYAML(b *testing.B) {
	docs, size := benchDocs(b)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(size / int64(len(docs)))
		b.ReportAllocs()
		i := 0
		var a Arena // as each of Stream's workers has
		for b.Loop() {
			a.Reset()
			if _, ok := parseFast(docs[i%len(docs)], &a); !ok {
				b.Fatal("left the fast path")
			}
			i++
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.SetBytes(size / int64(len(docs)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var n yaml.Node
			if err := yaml.Unmarshal(docs[i%len(docs)], &n); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkSplit measures cutting a multi-document stream.
func BenchmarkSplit(b *testing.B) {
	docs, size := benchDocs(b)
	var stream []byte
	for _, d := range docs {
		stream = append(stream, "---\n"...)
		stream = append(stream, d...)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if n := len(Split(stream)); n != len(docs) {
			b.Fatalf("%d documents, want %d", n, len(docs))
		}
	}
}
