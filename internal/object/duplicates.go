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
	// Merged marks a key written before a merge key ("<<") that brings
	// the same key: kubectl reads the merged pairs at the merge's place,
	// so the merged value replaces the written one; Kept is where the
	// merged key is written.
	Merged bool
}

// Duplicates returns up to limit keys written more than once, each
// overridden copy in document order: a key written again later in its
// mapping, or before a merge key ("<<") that brings it. The pairs of each
// mapping are read as the conversion to JSON reads them (encoder.collect
// and markOverridden), so what is reported dropped is what kubeguard and
// kubectl drop; a key written after a merge key overrides the merged one,
// as meant, and is not reported. Nodes are walked as written, not through
// aliases (an anchored node is walked where it is defined), and what merge
// keys bring is read within the node budget.
func (o *Object) Duplicates(limit int) []Duplicate {
	d := duplicateWalk{encoder: encoder{budget: DefaultLimits.MaxNodes}, o: o, limit: limit}
	d.node(o.root, 0)
	return d.found
}

// duplicateWalk walks an object's nodes; the encoder lends it the pairs
// of each mapping, and its budget.
type duplicateWalk struct {
	encoder
	o     *Object
	limit int
	found []Duplicate
	at    Path // the path to the node being walked, reused
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

// mapping records the keys written in n that a later pair of n overrides.
func (d *duplicateWalk) mapping(n *yaml.Node) {
	ps, start, err := d.readPairs(n)
	defer d.release(start)
	if err != nil {
		return // a key JSON cannot hold: the conversion's error
	}
	var last map[string]int // the pair each key ends with, made when needed
	for _, p := range ps {
		if !p.over || p.merged {
			continue // kept, or brought by a merge key on purpose
		}
		if last == nil {
			last = make(map[string]int, len(ps))
			for j, q := range ps {
				last[q.key] = j
			}
		}
		if len(d.found) >= d.limit {
			return
		}
		kept := ps[last[p.key]]
		d.found = append(d.found, Duplicate{Path: d.at.Key(p.key), Dropped: d.o.at(p.k), Kept: d.o.at(kept.k),
			Unordered: !sameValue(p.k, kept.k), Merged: kept.merged})
	}
}

// sameValue reports whether two scalar keys read as the same value, not
// only as the same text: 1 and "1" do not (an integer and a string).
func sameValue(a, b *yaml.Node) bool {
	va, ea := resolve(a)
	vb, eb := resolve(b)
	return ea != nil || eb != nil || va == vb
}
