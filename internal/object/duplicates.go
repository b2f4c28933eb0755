package object

import (
	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// Duplicate is a key written twice in one mapping. kubectl, Helm and the
// API server's decoding keep the last value and drop the earlier in
// silence, while a reader of the file may well take the first for the
// setting.
type Duplicate struct {
	// Path is the key's field path.
	Path Path
	// Dropped is where the earlier key is written; Kept, the last.
	Dropped, Kept finding.Location
	// Unordered marks keys that read as one field name but as values of
	// different types (1 and "1"): sigs.k8s.io/yaml then keeps either,
	// by Go's map order, so which copy kubectl applies is not fixed.
	// kubeguard judges the last.
	Unordered bool
}

// Duplicates returns up to limit keys written more than once, each
// earlier copy in document order. It walks the nodes as written, not
// following aliases (an anchored node is walked where it is defined) nor
// merge keys (a key beside a merge key overrides the merged one on
// purpose), so it is linear in the document.
func (o *Object) Duplicates(limit int) []Duplicate {
	d := duplicateWalk{o: o, limit: limit}
	d.node(o.root, 0)
	return d.found
}

type duplicateWalk struct {
	o     *Object
	limit int
	found []Duplicate
	at    Path           // the path to the node being walked, reused
	last  map[string]int // scratch: the last pair of each key of a long mapping
}

func (d *duplicateWalk) node(n *yaml.Node, depth int) {
	if len(d.found) >= d.limit || depth > MaxDepth {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			if n.Kind == yaml.SequenceNode {
				d.at = append(d.at, Elem{Index: i})
			}
			d.node(c, depth+1)
			if n.Kind == yaml.SequenceNode {
				d.at = d.at[:len(d.at)-1]
			}
		}
	case yaml.MappingNode:
		d.mapping(n)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, err := mapKey(n.Content[i])
			if err != nil || isMerge(n.Content[i]) {
				continue
			}
			d.at = append(d.at, Elem{Key: key})
			d.node(n.Content[i+1], depth+1)
			d.at = d.at[:len(d.at)-1]
		}
	}
}

// mapping records the keys of n written again later in n.
func (d *duplicateWalk) mapping(n *yaml.Node) {
	pairs := len(n.Content) / 2
	key := func(i int) (string, bool) {
		k := n.Content[2*i]
		s, err := mapKey(k)
		return s, err == nil && !isMerge(k)
	}
	later := func(i int) int { // the last pair with i's key, i itself when none follows
		ki, ok := key(i)
		if !ok {
			return i
		}
		if pairs > shortMapping {
			return d.last[ki]
		}
		last := i
		for j := i + 1; j < pairs; j++ {
			if kj, ok := key(j); ok && kj == ki {
				last = j
			}
		}
		return last
	}
	if pairs > shortMapping {
		if d.last == nil {
			d.last = make(map[string]int, pairs)
		}
		clear(d.last)
		for i := range pairs {
			if k, ok := key(i); ok {
				d.last[k] = i
			}
		}
	}
	for i := range pairs {
		j := later(i)
		if j == i {
			continue
		}
		k, _ := key(i)
		if len(d.found) >= d.limit {
			return
		}
		ki, kj := n.Content[2*i], n.Content[2*j]
		d.found = append(d.found, Duplicate{Path: d.at.Key(k), Dropped: d.o.at(ki), Kept: d.o.at(kj), Unordered: !sameValue(ki, kj)})
	}
}

// at is where node n of the object is written.
func (o *Object) at(n *yaml.Node) finding.Location {
	loc := o.Source
	loc.Line, loc.Column = o.offset+n.Line, n.Column
	return loc
}

// sameValue reports whether two scalar keys read as the same value, not
// only as the same text: 1 and "1" do not (an integer and a string).
func sameValue(a, b *yaml.Node) bool {
	va, ea := resolve(a)
	vb, eb := resolve(b)
	return ea != nil || eb != nil || va == vb
}
