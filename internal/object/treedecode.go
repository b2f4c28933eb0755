package object

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	kjson "sigs.k8s.io/json"
)

// decodeTree decodes n into v, a pointer to a zero value, straight from the
// node tree, as converting n to JSON and decoding that with
// kjson.UnmarshalCaseSensitivePreserveInts would. Pod templates are decoded
// for every workload, and the JSON round trip (writing it, then reading it
// back by reflection) was the largest cost of a scan after parsing.
//
// It handles the shapes manifests are written in: mappings with plain keys
// decoded into structs, pointers, slices, string maps, strings, booleans
// and integers. A value of any other type (a resource.Quantity, an
// IntOrString: anything with its own JSON decoding) and any scalar that is
// not plainly a string, boolean or integer is decoded by the JSON path on
// its own subtree, which is what decoding the whole would do for it. It
// reports false, leaving v untouched, when the tree is anything else
// (aliases, merge keys, explicit tags, keys that are not plain strings,
// duplicate keys, invalid UTF-8, deep nesting) or when any part fails to
// decode: the caller then takes the JSON path for the whole, which gives
// the result or the error. FuzzTreeDecodeMatchesJSON holds the two paths to
// each other.
func decodeTree(n *yaml.Node, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !rv.Elem().IsZero() {
		return false
	}
	if !simpleGate.Plain(n) {
		return false
	}
	// Straight into v, which is zero: a failure sets it back to zero,
	// which is leaving it untouched, without a copy of every pod spec.
	if !decodeValue(n, rv.Elem(), planFor(rv.Elem().Type())) {
		rv.Elem().SetZero()
		return false
	}
	return true
}

// treeMaxDepth and treeMaxNodes keep every subtree the JSON path is asked
// to decode well inside its own limits (MaxDepth, DefaultLimits.MaxNodes),
// so that it never fails where converting the whole would not.
const (
	treeMaxDepth = MaxDepth / 2
	treeMaxNodes = 1 << 18
)

// simpleGate takes the trees without the constructs decodeTree leaves to
// the JSON path: keys that are not plain strings, merge keys.
var simpleGate = TreeGate{MaxDepth: treeMaxDepth, MaxNodes: treeMaxNodes, Key: func(k *yaml.Node) bool {
	_, ok := scalarString(k)
	return ok && !isMerge(k) && utf8.ValidString(k.Value)
}}

// decodeValue decodes n into v, which is settable and zero, by plan, v's
// type's.
func decodeValue(n *yaml.Node, v reflect.Value, plan *plan) bool {
	switch plan.kind {
	case planStruct:
		if n.Kind != yaml.MappingNode {
			return viaJSON(n, v)
		}
		for i := 0; i < len(n.Content); i += 2 {
			f, ok := plan.fields[n.Content[i].Value]
			if !ok {
				continue // unknown fields are ignored, as by the JSON path
			}
			fv, ok := fieldByIndex(v, f.index)
			if !ok || !decodeValue(n.Content[i+1], fv, f.plan) {
				return false
			}
		}
		return true
	case planPointer:
		if isNull(n) {
			return true // null leaves the pointer nil
		}
		p := reflect.New(v.Type().Elem())
		if !decodeValue(n, p.Elem(), plan.elem) {
			return false
		}
		v.Set(p)
		return true
	case planSlice:
		if n.Kind != yaml.SequenceNode {
			return viaJSON(n, v)
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if !decodeValue(c, s.Index(i), plan.elem) {
				return false
			}
		}
		v.Set(s)
		return true
	case planStringMap:
		if n.Kind != yaml.MappingNode {
			return viaJSON(n, v)
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			val := n.Content[i+1]
			s, ok := scalarString(val)
			if !ok {
				return viaJSON(n, v)
			}
			m.SetMapIndex(reflect.ValueOf(strings.Clone(n.Content[i].Value)).Convert(v.Type().Key()),
				reflect.ValueOf(strings.Clone(s)).Convert(v.Type().Elem()))
		}
		v.Set(m)
		return true
	case planMap:
		if n.Kind != yaml.MappingNode {
			return viaJSON(n, v)
		}
		t := v.Type()
		m := reflect.MakeMapWithSize(t, len(n.Content)/2)
		// The JSON decoder decodes each value into a fresh zero element
		// and then stores it; so does this.
		elem := reflect.New(t.Elem()).Elem()
		for i := 0; i < len(n.Content); i += 2 {
			elem.SetZero()
			if !decodeValue(n.Content[i+1], elem, plan.elem) {
				return false
			}
			m.SetMapIndex(reflect.ValueOf(strings.Clone(n.Content[i].Value)).Convert(t.Key()), elem)
		}
		v.Set(m)
		return true
	case planUnmarshaler:
		if n.Kind != yaml.ScalarNode {
			return viaJSON(n, v)
		}
		return unmarshalScalar(n, v)
	case planString:
		if s, ok := scalarString(n); ok {
			// Copied: decoded fields (container names) reach findings,
			// which must not keep the document's text alive.
			v.SetString(strings.Clone(s))
			return true
		}
	case planBool:
		if n.Kind == yaml.ScalarNode && n.Style == 0 {
			if b, ok := plainValue(n.Value).(bool); ok {
				v.SetBool(b)
				return true
			}
		}
	case planInt:
		if n.Kind == yaml.ScalarNode && n.Style == 0 {
			if i, ok := plainValue(n.Value).(int64); ok && !v.OverflowInt(i) {
				v.SetInt(i)
				return true
			}
		}
	}
	return viaJSON(n, v)
}

// scalarString returns the string a scalar is in JSON, and false when it
// is not a string scalar (a number, boolean, null or not a scalar). Trees
// reaching it have no explicit tags.
func scalarString(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if plainString(n) {
		return n.Value, true
	}
	if n.Style != 0 || n.Value == "" {
		return "", false
	}
	if wordString(n) {
		return n.Value, true // keys such as name and namespace
	}
	s, ok := plainValue(n.Value).(string)
	return s, ok
}

// isNull reports whether a scalar of a tree without tags is null.
func isNull(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style != 0 {
		return false
	}
	if n.Value == "" {
		return true
	}
	v, ok := keyword(n.Value)
	return ok && v == nil
}

// fieldByIndex is v.FieldByIndex, allocating embedded pointers on the way
// as the JSON decoder does; it fails where the decoder would too.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// unmarshalScalar decodes a scalar into v, whose type has its own JSON
// decoding, as the JSON decoder does: it hands the value's JSON literal,
// exactly as the encoder writes it, to UnmarshalJSON. Quantities and
// IntOrStrings in every pod spec are decoded this way, without the
// decoder's scanning and reflection around them.
func unmarshalScalar(n *yaml.Node, v reflect.Value) bool {
	u, ok := v.Addr().Interface().(json.Unmarshaler)
	if !ok {
		return viaJSON(n, v)
	}
	e := encoders.Get().(*encoder)
	e.buf, e.budget, e.depth = e.buf[:0], DefaultLimits.MaxNodes, 0
	err := e.scalar(n)
	if err == nil {
		err = u.UnmarshalJSON(e.buf)
	}
	if cap(e.buf) <= 1<<20 {
		encoders.Put(e)
	}
	return err == nil
}

// viaJSON decodes the subtree n into v by the JSON path.
func viaJSON(n *yaml.Node, v reflect.Value) bool {
	err := withJSON(n, func(b []byte) error {
		return kjson.UnmarshalCaseSensitivePreserveInts(b, v.Addr().Interface())
	})
	return err == nil
}

type planKind int

const (
	planJSON planKind = iota // left to the JSON path
	planStruct
	planPointer
	planSlice
	planStringMap
	planMap         // string-keyed, of values of any other type
	planUnmarshaler // its own JSON decoding, of scalars only
	planString
	planBool
	planInt
)

// plan is how decodeValue decodes a type. A plan holds those of the types
// it decodes into, so that decoding a tree looks up none.
type plan struct {
	kind   planKind
	fields map[string]fieldPlan // for structs, by JSON name
	elem   *plan                // for pointers, slices and maps: the element's
}

type fieldPlan struct {
	index []int // field index path
	plan  *plan
}

var (
	plans    sync.Map   // reflect.Type -> *plan, complete
	planning sync.Mutex // held while plans are made
)

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	planning.Lock()
	defer planning.Unlock()
	made := map[reflect.Type]*plan{}
	p := makePlan(t, made)
	for t, p := range made {
		plans.Store(t, p)
	}
	return p
}

// makePlan makes the plan of t and those it holds, adding them to made;
// a type met again on the way (a recursive type) gets the plan already
// begun.
func makePlan(t reflect.Type, made map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := made[t]; ok {
		return p
	}
	p := &plan{kind: planJSON}
	made[t] = p
	pt := reflect.PointerTo(t)
	switch {
	case t.Kind() == reflect.Pointer && t.Name() == "":
		// The JSON decoder follows a pointer before it looks for the
		// pointee's own decoding, and sets it to nil for null.
		p.kind = planPointer
	case t.Kind() != reflect.Interface && pt.Implements(jsonUnmarshaler):
		p.kind = planUnmarshaler
	case t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler) || pt.Implements(textUnmarshaler):
		// Its own decoding: the JSON path.
	case t.Kind() == reflect.Struct:
		if fields, ok := structFields(t); ok {
			p.kind, p.fields = planStruct, map[string]fieldPlan{}
			for name, index := range fields {
				p.fields[name] = fieldPlan{index, makePlan(t.FieldByIndex(index).Type, made)}
			}
		}
	case t.Kind() == reflect.Pointer:
		p.kind = planPointer
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		p.kind = planSlice // []byte is base64 in JSON
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String &&
		!reflect.PointerTo(t.Key()).Implements(textUnmarshaler) && !reflect.PointerTo(t.Elem()).Implements(textUnmarshaler):
		p.kind = planStringMap
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && !reflect.PointerTo(t.Key()).Implements(textUnmarshaler):
		p.kind = planMap
	case t.Kind() == reflect.String:
		p.kind = planString
	case t.Kind() == reflect.Bool:
		p.kind = planBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		p.kind = planInt
	}
	if p.kind == planPointer || p.kind == planSlice || p.kind == planMap {
		p.elem = makePlan(t.Elem(), made)
	}
	return p
}

// structFields lists a struct's JSON fields by name, embedded structs'
// fields included. It answers false, leaving the struct to the JSON path,
// for anything but the simple case: two fields of one name (which the JSON
// decoder resolves by depth and tags), a ",string" option, an embedded
// non-struct.
func structFields(t reflect.Type) (map[string][]int, bool) {
	fields := map[string][]int{}
	var walk func(t reflect.Type, index []int) bool
	walk = func(t reflect.Type, index []int) bool {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",string,") {
				return false
			}
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					return false
				}
				if ft.Kind() == reflect.Struct {
					if !walk(ft, idx) {
						return false
					}
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := fields[name]; dup {
				return false
			}
			fields[name] = idx
		}
		return true
	}
	if !walk(t, nil) {
		return nil, false
	}
	return fields, true
}
