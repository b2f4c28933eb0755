package manifest

import (
	"slices"
	"testing"
)

func TestDocuments(t *testing.T) {
	data := []byte("# lead\n---\na: 1\n--- {b: 2}\n---   \n# only a comment\n...\nc: 3\n---\n")
	type doc struct {
		data string
		line int
	}
	var got []doc
	for d := range Documents(data) {
		got = append(got, doc{string(d.Data), d.Line})
	}
	want := []doc{
		{"a: 1\n", 3},       // starts after its marker's line, which holds nothing else
		{"    {b: 2}\n", 4}, // content on the marker's line: the marker is blanked
		{"c: 3\n", 8},       // after "...", the next line
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// A document after a bare marker line is the input's own bytes.
	first := Split(data)[0].Data
	if &first[0] != &data[len("# lead\n---\n")] {
		t.Error("the document after a bare marker line was copied")
	}
}

// TestParseErrorAtEndOfStream holds errors yaml.v3 places past the last
// line to the last line, whether or not a marker line came before.
func TestParseErrorAtEndOfStream(t *testing.T) {
	for _, data := range []string{"kind: [unclosed\n", "kind: [unclosed", "a: 1\n---\nkind: [unclosed\n"} {
		docs := Split([]byte(data))
		d := docs[len(docs)-1]
		_, errs := Parse("f.yaml", d)
		last := lineCount([]byte(data))
		if len(errs) != 1 || errs[0].Location.Line != last {
			t.Errorf("%q: errors %v, want one on line %d", data, errs, last)
		}
	}
}
