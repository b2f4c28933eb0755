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
// earlier copy in document order, then the keys a later merge key
// overrides. It walks the nodes as written, not following aliases (an
// anchored node is walked where it is defined); a merge key's keys are
// read within the node budget. A key written after a merge key overrides
// the merged one, as meant, and is not reported.
func (o *Object) Duplicates(limit int) []Duplicate {
	d := duplicateWalk{o: o, limit: limit, budget: DefaultLimits.MaxNodes}
	d.node(o.root, 0)
	return d.found
}

type duplicateWalk struct {
	o     *Object
	limit int
	found []Duplicate
	at    Path           // the path to the node being walked, reused
	last  map[string]int // scratch: the last pair of each key of a long mapping
	// budget bounds the nodes read through merge keys, which an alias
	// can bring many times.
	budget int
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
	// Keys written before a merge key that brings them, the last copy of
	// each (an earlier copy is reported above).
	var brought map[string]*yaml.Node
	for m := pairs - 1; m >= 0; m-- {
		if !isMerge(n.Content[2*m]) {
			continue
		}
		if brought == nil {
			brought = map[string]*yaml.Node{}
		}
		d.mergedKeys(n.Content[2*m+1], brought, 0)
		for i := range m {
			k, ok := key(i)
			if !ok || later(i) != i || brought[k] == nil || len(d.found) >= d.limit {
				continue
			}
			d.found = append(d.found, Duplicate{Path: d.at.Key(k), Dropped: d.o.at(n.Content[2*i]), Kept: d.o.at(brought[k]), Merged: true})
			delete(brought, k) // reported once, for the last merge bringing it
		}
	}
}

// mergedKeys adds to into the keys a merge key's value brings (a mapping,
// an alias of one, or a list of them, merges within them included), each
// with where it is written, within the walk's budget.
func (d *duplicateWalk) mergedKeys(v *yaml.Node, into map[string]*yaml.Node, depth int) {
	if d.budget--; d.budget < 0 || depth > MaxDepth {
		return
	}
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.SequenceNode:
		for _, c := range v.Content {
			d.mergedKeys(c, into, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			if isMerge(k) {
				d.mergedKeys(v.Content[i+1], into, depth+1)
				continue
			}
			d.budget--
			if s, err := mapKey(k); err == nil && into[s] == nil {
				into[s] = k
			}
		}
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
