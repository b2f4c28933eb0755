package object

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/kubeguard/kubeguard/internal/corpus"
	yamlv2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// encoderSeeds are YAML documents covering the scalar resolution and
// structure rules the encoder implements, beside real manifests.
var encoderSeeds = []string{
	"a: 1\nb: 1.5\nc: 0x1F\nd: 0o17\ne: 017\nf: 0b101\ng: 1_000\nh: -0\ni: .5\nj: 1e3\nk: 6.8523015e+5\n",
	"a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: true\nh: False\ni: ~\nj: null\nk:\nl: NULL\n",
	"a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10 -5\nd: 2002-1-1\n",
	"a: .inf\n",
	"a: '1'\nb: \"true\"\nc: |\n  x\n  y\nd: >\n  folded\n  text\n\n  more\ne: !!str 1\nf: !!int \"3\"\ng: !!float 1\n",
	"1: a\n2.5: b\ntrue: c\n~: d\n",
	"base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
	"m:\n  <<: [{a: 1}, {a: 2, b: 2}]\n  c: 3\n",
	"s: \"<>&\\u2028\\t\\x01 \xff\"\n",
	"a: 9223372036854775807\nb: 9223372036854775808\nc: 18446744073709551616\nd: -9223372036854775808\n",
	"a: 1e-7\nb: 1e21\nc: 123456789e-20\nd: -0.0\ne: +1\nf: +.5\n",
	"[1, [2, [3, {a: b}]]]\n",
	"a: !!binary aGVsbG8=\nb: !custom x\n",
	"? [a, b]\n: c\n",
	"a: &x 1\nb: *x\n*x : c\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext: {privileged: true, runAsUser: 0}\n",
}

// FuzzEncoderMatchesYAMLToJSON holds the node-to-JSON encoder to what
// kubectl does with YAML: sigs.k8s.io/yaml.YAMLToJSON. When the reference
// and the encoder both accept a document they must give the same JSON value
// (numbers compared as written); when the encoder refuses a document the
// reference accepts, the refusal must be one of the deliberate limits.
//
// Accepted divergences, each skipped here:
//   - the two YAML parsers (gopkg.in/yaml.v3 for kubeguard, go.yaml.in/yaml/v2
//     for YAMLToJSON) do not accept exactly the same language: a document
//     only one of them parses is not comparable;
//   - streams of several documents: YAMLToJSON reads the first only, and
//     kubeguard splits streams before parsing;
//   - mappings whose keys render to the same JSON key ("1" and 1, "true"
//     and true): YAMLToJSON goes through a Go map, so which value wins is
//     random from run to run there;
//   - a collection as a mapping key where yaml.v2 reads less than the
//     whole document ("{} :" is an empty mapping to it, and a mapping
//     with a mapping key to yaml.v3): the encoder refuses such a key as
//     yaml.v3's own decoder does, and no manifest writes one;
//   - a number with an exponent of more than six digits ("1e1000000"),
//     which the encoder refuses on purpose (ErrHugeExponent: as a quantity
//     it would take hours to parse) and YAMLToJSON passes on as a string;
//   - the non-specific tag "!" ("a: ! 5"): YAML makes such a scalar a
//     string and the YAML 1.1 decoder does, but yaml.v3 drops the tag while
//     building its node tree and resolves the scalar as if it were plain,
//     so the tree no longer says it; no manifest writes it.
func FuzzEncoderMatchesYAMLToJSON(f *testing.F) {
	for _, s := range encoderSeeds {
		f.Add([]byte(s))
	}
	for _, d := range corpusDocs(f, 40) {
		f.Add(d)
	}
	// Aliases naming aliases, twelve levels deep: a walk that follows
	// every alias would visit 10^12 nodes.
	f.Add([]byte(aliasTree(12)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 || nonSpecificTag.Match(data) {
			return
		}
		var root yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&root); err != nil {
			return
		}
		var second yaml.Node
		if dec.Decode(&second) == nil {
			return // a stream of several documents
		}
		if hasCollidingKeys(&root, 0) {
			return
		}
		var v2 any
		if err := yamlv2.Unmarshal(data, &v2); err != nil {
			return // the parsers disagree on the language; not comparable
		}
		e := encoder{budget: DefaultLimits.MaxNodes}
		gotErr := e.node(&root)
		want, wantErr := sigsyaml.YAMLToJSON(data)
		switch {
		case gotErr != nil && wantErr != nil:
			return
		case gotErr != nil:
			if errors.Is(gotErr, ErrExpansion) || errors.Is(gotErr, ErrHugeExponent) || strings.Contains(gotErr.Error(), "nesting deeper") {
				return // deliberate limits
			}
			var v3 any
			if yaml.Unmarshal(data, &v3) != nil {
				return // refused by yaml.v3 too: the parsers' languages differ
			}
			t.Fatalf("encoder refused what YAMLToJSON accepts:\ninput: %q\nerror: %v\nYAMLToJSON: %s", data, gotErr, want)
		case wantErr != nil:
			t.Fatalf("encoder accepted what YAMLToJSON refuses:\ninput: %q\nencoder: %s\nYAMLToJSON error: %v", data, e.buf, wantErr)
		}
		got, err := decodeJSON(e.buf)
		if err != nil {
			t.Fatalf("encoder wrote invalid JSON %s for %q: %v", e.buf, data, err)
		}
		// Each key once: a typed decoder would read every duplicate into
		// the same struct, keeping fields of the values the YAML decoder's
		// map drops (encoding/json/v2 refuses a duplicate name).
		var strict any
		if err := jsonv2.Unmarshal(e.buf, &strict); err != nil {
			t.Fatalf("encoder wrote a duplicate key for %q: %v\n%s", data, err, e.buf)
		}
		ref, err := decodeJSON(want)
		if err != nil {
			t.Fatalf("YAMLToJSON wrote invalid JSON %s: %v", want, err)
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("JSON differs for %q\nencoder:    %s\nYAMLToJSON: %s", data, e.buf, want)
		}
	})
}

// aliasTree is a "billion laughs" document: each level is a list of ten
// aliases of the level below.
func aliasTree(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [x]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// nonSpecificTag finds a "!" standing alone as a tag.
var nonSpecificTag = regexp.MustCompile(`(^|[\s\[\]{},:?-])!($|[\s\[\]{},])`)

// decodeJSON reads a JSON value keeping numbers as written, so that 1 and
// 1.0 differ.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

// hasCollidingKeys reports whether a mapping in the tree (merged mappings
// included) has two different keys that render to the same JSON key.
//
// It visits each node once: the answer for a node does not depend on the
// path it was reached by, and a tree of aliases ("billion laughs") names
// the same nodes exponentially many times. A node is visited again only
// from a shallower depth, so that the depth bound stays what it says.
func hasCollidingKeys(n *yaml.Node, depth int) bool {
	return (&collisionCheck{visited: map[*yaml.Node]int{}}).node(n, depth)
}

// collisionCheck is hasCollidingKeys's walk: visited holds the least depth
// each node was checked at.
type collisionCheck struct {
	visited map[*yaml.Node]int
}

func (c *collisionCheck) node(n *yaml.Node, depth int) bool {
	if n == nil || depth > 64 {
		return true
	}
	if d, ok := c.visited[n]; ok && d <= depth {
		return false // checked already, and found no collision
	}
	c.visited[n] = depth
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, ch := range n.Content {
			if c.node(ch, depth+1) {
				return true
			}
		}
	case yaml.AliasNode:
		return c.node(n.Alias, depth+1)
	case yaml.MappingNode:
		if c.keys(n, depth) {
			return true
		}
		for _, ch := range n.Content {
			if c.node(ch, depth+1) {
				return true
			}
		}
	}
	return false
}

// keys reports whether mapping n, with the mappings it merges, has two
// keys that render to the same JSON key. A merged mapping is read once:
// reading it again adds the same keys.
func (c *collisionCheck) keys(n *yaml.Node, depth int) bool {
	seen := map[string]string{}
	merged := map[*yaml.Node]bool{}
	var keys func(m *yaml.Node, depth int) bool
	keys = func(m *yaml.Node, depth int) bool {
		if depth > 64 {
			return true
		}
		m = deref(m)
		if merged[m] {
			return false
		}
		merged[m] = true
		switch m.Kind {
		case yaml.SequenceNode:
			for _, ch := range m.Content {
				if keys(ch, depth+1) {
					return true
				}
			}
			return false
		case yaml.MappingNode:
		default:
			return false
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if isMerge(k) {
				if keys(m.Content[i+1], depth+1) {
					return true
				}
				continue
			}
			dk := deref(k)
			if dk.Kind != yaml.ScalarNode {
				continue
			}
			s, err := mapKey(dk)
			if err != nil {
				continue
			}
			// The identity of a key as the YAML 1.1 decoder sees it:
			// its resolved type and value.
			v, _ := resolve(dk)
			id := fmt.Sprintf("%T:%v", v, v)
			if prev, ok := seen[s]; ok && prev != id {
				return true
			}
			seen[s] = id
		}
		return false
	}
	return keys(n, depth)
}

// corpusDocs returns up to n documents of a generated corpus, as seeds.
func corpusDocs(tb testing.TB, n int) [][]byte {
	tb.Helper()
	var docs [][]byte
	_, err := corpus.Generate(corpus.Options{N: n, Seed: 7}, func(f corpus.File) error {
		for _, d := range bytes.Split(f.Data, []byte("\n---\n")) {
			if len(docs) < n {
				docs = append(docs, d)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return docs
}
