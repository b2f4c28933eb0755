package manifest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/corpus"
	"gopkg.in/yaml.v3"
)

// diffNodes describes the first difference between two trees, comments
// aside, or returns "".
func diffNodes(path string, got, want *yaml.Node) string {
	switch {
	case got == nil || want == nil:
		if got != want {
			return fmt.Sprintf("%s: got %v, want %v", path, got, want)
		}
		return ""
	case got.Kind != want.Kind, got.Style != want.Style, got.Tag != want.Tag, got.Value != want.Value,
		got.Anchor != want.Anchor, got.Line != want.Line, got.Column != want.Column,
		len(got.Content) != len(want.Content), (got.Alias == nil) != (want.Alias == nil):
		return fmt.Sprintf("%s:\n got  kind=%d style=%d tag=%q value=%q anchor=%q at %d:%d, %d children\n want kind=%d style=%d tag=%q value=%q anchor=%q at %d:%d, %d children",
			path, got.Kind, got.Style, got.Tag, got.Value, got.Anchor, got.Line, got.Column, len(got.Content),
			want.Kind, want.Style, want.Tag, want.Value, want.Anchor, want.Line, want.Column, len(want.Content))
	}
	for i := range got.Content {
		if d := diffNodes(fmt.Sprintf("%s/%d", path, i), got.Content[i], want.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// fastSeeds are documents inside and just outside the fast subset.
var fastSeeds = []string{
	"a: 1\nb: two\n",
	"# c\n\n   \na:\nb: 1\n",
	"a:   # c\n  \nb:\n",
	"a:\n- x\n-\n- y\nc: [a, {b: c}, {}]\n",
	"x:\n  - k:\n    j: 1\n",
	"a: |\n  foo\n\n  bar\n\nb: >-\n  x\n  y\n\n   z\n  w\n",
	"a: |+\n  keep\n\n\nb: |-\n  strip\n\n",
	"a: >\n  one\n  two\n\n  three\n    indented\n  four\n",
	"'quoted key': \"v\\t\\u00e9\\x41\"\nb: 'it''s'\n",
	"a: b # comment\nc: \"d\" # comment\ne: [1, 2] # comment\n",
	"a: b\n  c\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a:\n  b:\n    c:\n    - d: 1\n      e: [x, y]\n    - f\n",
	"a: 1\n- b\n",
	"a: b: c\n",
	"a: [b,\n  c]\n",
	"k: 0x1F\nl: 1e3\nm: .5\nn: -1\no: 2001-12-14\np: +1\nq: ~\nr: <<\n",
	"a:\n  - |\n    script\n  - >\n    folded\n",
	"a: \"unterminated\n",
	"- a\n- b\n",
	"  a: 1\n",
	"a: 'x'y\n",
	"a:\n-\n  b: 1\n",
	"a: [a, ]\nb: {a: 1, }\nc: [-, x]\n",
}

// FuzzFastParserMatchesYAMLv3 holds the fast parser to yaml.v3: whatever
// it accepts, yaml.v3 must accept and parse to the same tree, positions
// included (comments are not compared: the fast parser does not keep them
// and nothing reads them).
func FuzzFastParserMatchesYAMLv3(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	for _, d := range corpusDocuments(f, 30) {
		f.Add(d)
	}
	// One arena for every input, as a worker of Stream has: a tree cut
	// from slabs another tree used must be the same as one from new memory.
	var a Arena
	f.Fuzz(func(t *testing.T, data []byte) {
		defer a.Reset()
		got, ok := parseFast(data, &a)
		if !ok {
			return
		}
		var want yaml.Node
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("fast parser accepted what yaml.v3 refuses (%v):\n%s", err, data)
		}
		if d := diffNodes("", got, &want); d != "" {
			t.Fatalf("trees differ for\n%s\n%s", data, d)
		}
	})
}

// TestFastParserCoversCorpus checks that generated manifests, which look
// like real ones, take the fast path and give yaml.v3's trees: a manifest
// that silently fell back would only be slow, so only a test notices.
func TestFastParserCoversCorpus(t *testing.T) {
	docs := corpusDocuments(t, 300)
	var a Arena // reused, as Stream's workers do
	for i, d := range docs {
		a.Reset()
		got, ok := parseFast(d, &a)
		if !ok {
			t.Fatalf("document %d left the fast path:\n%s", i, d)
		}
		var want yaml.Node
		if err := yaml.Unmarshal(d, &want); err != nil {
			t.Fatal(err)
		}
		if diff := diffNodes("", got, &want); diff != "" {
			t.Fatalf("document %d: %s", i, diff)
		}
	}
}

// TestFastParserSubset checks which inputs take the fast path.
func TestFastParserSubset(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		fast bool
	}{
		{name: "block mapping", doc: "a: 1\nb:\n  c: d\n", fast: true},
		{name: "indentless sequence", doc: "a:\n- b\n- c: d\n  e: f\n", fast: true},
		{name: "literal block", doc: "a: |\n  x\n  y\n", fast: true},
		{name: "flow on one line", doc: "a: [\"x\", {b: c}]\n", fast: true},
		{name: "anchor", doc: "a: &x 1\nb: *x\n"},
		{name: "tag", doc: "a: !!str 1\n"},
		{name: "multi-line plain", doc: "a: b\n  c\n"},
		{name: "multi-line flow", doc: "a: [b,\n  c]\n"},
		{name: "tab", doc: "a:\t1\n"},
		{name: "crlf", doc: "a: 1\r\n"},
		{name: "non-ASCII", doc: "a: caf\xc3\xa9\n"},
		{name: "root sequence", doc: "- a\n"},
		{name: "JSON", doc: "{\"a\": 1}\n"},
		{name: "second mapping on a line", doc: "a: b: c\n"},
		{name: "directive", doc: "%YAML 1.2\n---\na: 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := parseFast([]byte(tt.doc), nil); ok != tt.fast {
				t.Errorf("parseFast(%q) ok = %v, want %v", tt.doc, ok, tt.fast)
			}
		})
	}
}

// corpusDocuments returns n documents of a generated corpus.
func corpusDocuments(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var docs [][]byte
	_, err := corpus.Generate(corpus.Options{N: n, Seed: 3}, func(f corpus.File) error {
		for _, d := range Split(f.Data) {
			if len(docs) < n && !strings.Contains(string(d.Data), "kind: Namespace") || len(docs) < 5 {
				docs = append(docs, d.Data)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return docs
}

// TestFastParserMatchesYAMLv3OnUpstreamFixtures runs both parsers over the
// Pod Security fixtures shipped in the k8s.io/pod-security-admission module,
// thousands of manifests written by others: every document the fast parser
// takes must give yaml.v3's tree, and most must be taken.
func TestFastParserMatchesYAMLv3OnUpstreamFixtures(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Skipf("module directory: %v", err)
	}
	src := &Source{Paths: []string{filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")}}
	files, errs := src.Files()
	if len(errs) > 0 || len(files) < 1000 {
		t.Fatalf("%d fixture files, errors %v", len(files), errs)
	}
	var docs, fast int
	var a Arena
	for _, name := range files {
		data, err := src.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range Split(data) {
			docs++
			a.Reset()
			got, ok := parseFast(d.Data, &a)
			if !ok {
				continue
			}
			fast++
			var want yaml.Node
			if err := yaml.Unmarshal(d.Data, &want); err != nil {
				t.Fatalf("%s:%d: fast parser accepted what yaml.v3 refuses: %v", name, d.Line, err)
			}
			if diff := diffNodes("", got, &want); diff != "" {
				t.Fatalf("%s:%d: %s", name, d.Line, diff)
			}
		}
	}
	t.Logf("%d of %d documents took the fast path", fast, docs)
	if fast < docs*9/10 {
		t.Errorf("only %d of %d documents took the fast path", fast, docs)
	}
}

// TestPlainTagMatchesYAMLv3 holds the resolution of plain scalars, with its
// shortcut for text that starts with a digit, to yaml.v3's.
func TestPlainTagMatchesYAMLv3(t *testing.T) {
	for _, v := range []string{
		"0", "1", "500m", "128Mi", "1.5Gi", "1e3", "1E3", "1e+3", "0x1F", "0X1f", "0o17", "0O17", "017", "0b101", "0B1",
		"1_000", "1__0", "1.", "1.5", "1.5.5", "1.27-alpine", "3.14159", "9223372036854775808", "18446744073709551616",
		"2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-1-1", "2024-13-45", "1234-", "12345-6",
		"8080/TCP", "1:2", "0.0.0.0", "10.0.0.1/8", "1h30m", "7d", "1-2", "1+2", "1e", "0x", "0o", "0b", "1ee3", "1.0e-7",
		"+1", "-1", "+.inf", "-.Inf", ".5", ".nan", "-0b11", "-0o7", "+", "-", ".",
	} {
		n := yaml.Node{Kind: yaml.ScalarNode, Value: v}
		if got, want := plainTag(v), n.ShortTag(); got != want {
			t.Errorf("plainTag(%q) = %s, yaml.v3 says %s", v, got, want)
		}
	}
}
