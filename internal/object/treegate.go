package object

import (
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// TreeGate is the one test of a YAML tree's shape that the fast decoders
// take before decoding a tree straight from its nodes (decodeTree here, the
// RBAC reader in package rbac): anything it refuses goes the general way,
// through JSON, which gives the result or the error. Each decoder sets the
// limits and key rule its differential fuzzer holds it to.
type TreeGate struct {
	// MaxDepth is the deepest node accepted.
	MaxDepth int
	// MaxNodes bounds the value nodes, MaxBytes the bytes of scalars and
	// keys (8 more each); zero means no bound.
	MaxNodes, MaxBytes int
	// Strict also refuses anchors, and plain scalars starting with '.',
	// '+' or '-' (infinities, NaN, signed numbers), for a decoder that
	// does not resolve them as sigs.k8s.io/yaml does.
	Strict bool
	// Key accepts a mapping key.
	Key func(*yaml.Node) bool
}

// Plain reports whether the tree under n is made only of mappings with
// distinct keys that g.Key accepts, sequences, and untagged scalars in
// valid UTF-8 and not numbers the JSON path refuses (hugeExponent),
// within g's bounds. It is linear in the tree: duplicate keys
// are found with a KeySet.
func (g *TreeGate) Plain(n *yaml.Node) bool {
	nodes, bytes := 0, 0
	return g.plain(n, 0, &nodes, &bytes)
}

func (g *TreeGate) plain(n *yaml.Node, depth int, nodes, bytes *int) bool {
	*nodes++
	if depth > g.MaxDepth || g.MaxNodes > 0 && *nodes > g.MaxNodes || n.Style&yaml.TaggedStyle != 0 || g.Strict && n.Anchor != "" {
		return false
	}
	spend := func(s string) bool {
		*bytes += len(s) + 8
		return g.MaxBytes == 0 || *bytes <= g.MaxBytes
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if !spend(n.Value) {
			return false
		}
		if v := n.Value; g.Strict && n.Style == 0 && v != "" && (v[0] == '.' || v[0] == '+' || v[0] == '-') {
			return false
		}
		// The JSON path refuses it wherever it is, known field or not.
		return utf8.ValidString(n.Value) && !hugeExponent(n.Value)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if !g.plain(c, depth+1, nodes, bytes) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		if len(n.Content)%2 != 0 {
			return false
		}
		keys := NewKeySet(len(n.Content) / 2)
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i]
			if !g.Key(k) || g.Strict && k.Anchor != "" || !spend(k.Value) {
				return false
			}
			if keys.Seen(n.Content, i) {
				return false // duplicate keys: JSON merges them in ways not worth copying
			}
			if !g.plain(n.Content[i+1], depth+1, nodes, bytes) {
				return false
			}
		}
		return true
	}
	return false // documents and aliases
}
