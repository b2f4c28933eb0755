package object

import (
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"k8s.io/client-go/kubernetes/scheme"
)

// CheckFields returns a *FieldError at the first field, in document order,
// that an object of a kind built into Kubernetes does not have: a misspelt
// key (runAsNonroot), one written with the wrong case (Image), or one
// indented into the wrong place (requests beside resources rather than in
// it). Every other client drops such a field in silence, so the setting the
// author meant is not there; kubectl apply, whose default is strict field
// validation, has the API server refuse the object ("strict decoding error:
// unknown field"). Kinds the built-in scheme does not know (custom
// resources) are not checked.
//
// It reads the tree as CheckTypes' decoding does (aliases, merge keys, the
// last of duplicate keys) but decodes nothing: each key is looked up in the
// plan of the type the API decodes it into, so the pass is linear in the
// object and cheap enough for every object of a scan. Type errors are
// CheckTypes' to report: a value of the wrong shape is not searched.
func (o *Object) CheckFields() error {
	t, ok := apiTypeOf(o.Ref.APIVersion, o.Ref.Kind)
	if !ok {
		return nil
	}
	w := fieldWalk{encoder: encoder{budget: DefaultLimits.MaxNodes}, o: o}
	return w.node(o.root, planFor(t))
}

// apiTypes maps "apiVersion\x00kind" to the type the API server decodes
// an object of that kind into, for every kind built in. Made once, it
// does not grow with the input, however many kinds the input invents.
var apiTypes = sync.OnceValue(func() map[string]reflect.Type {
	known := scheme.Scheme.AllKnownTypes()
	m := make(map[string]reflect.Type, len(known))
	for gvk, t := range known {
		m[gvk.GroupVersion().String()+"\x00"+gvk.Kind] = t
	}
	return m
})

// apiTypeOf returns the type the API server decodes an object of
// apiVersion and kind into.
func apiTypeOf(apiVersion, kind string) (reflect.Type, bool) {
	t, ok := apiTypes()[apiVersion+"\x00"+kind]
	return t, ok
}

// fieldWalk walks an object's tree beside the plans of its API type. The
// encoder lends it the pairs of a mapping as decoding sees them, and its
// node budget, which bounds the walk however aliases multiply the tree.
type fieldWalk struct {
	encoder
	o  *Object
	at Path // the path to the node being walked, a stack the walk reuses
}

func (w *fieldWalk) node(n *yaml.Node, p *plan) error {
	// Past the budget or the depth, converting the object to JSON fails
	// and says why; this walk has nothing to add.
	w.budget--
	w.depth++
	defer func() { w.depth-- }()
	if w.budget < 0 || w.depth > MaxDepth {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	for p.kind == planPointer {
		p = p.elem
	}
	switch {
	case p.kind == planSlice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			w.at = append(w.at, Elem{Index: i})
			if err := w.node(c, p.elem); err != nil {
				return err
			}
			w.at = w.at[:len(w.at)-1]
		}
	case (p.kind == planStruct || p.kind == planMap) && n.Kind == yaml.MappingNode:
		ps, start, err := w.readPairs(n)
		defer w.release(start)
		if err != nil {
			return nil // a key JSON cannot hold: the conversion's error
		}
		for i := range ps {
			if ps[i].over {
				continue // never decoded
			}
			next := p.elem
			if p.kind == planStruct {
				f, ok := p.fields[ps[i].key]
				if !ok {
					return w.unknown(ps[i], p)
				}
				next = f.plan
			}
			w.at = append(w.at, Elem{Key: ps[i].key})
			if err := w.node(ps[i].v, next); err != nil {
				return err
			}
			w.at = w.at[:len(w.at)-1]
		}
	}
	return nil
}

// unknown is the error for pair q, a key the struct planned by p lacks.
func (w *fieldWalk) unknown(q pair, p *plan) *FieldError {
	loc := w.o.at(q.k)
	msg := "unknown field; kubectl apply refuses it (strict field validation)"
	for name := range p.fields {
		if strings.EqualFold(name, q.key) {
			msg = "unknown field; field names are case-sensitive: did you mean " + name + "?"
			break
		}
	}
	return &FieldError{Path: w.at.Key(q.key), Location: loc, Message: msg}
}
