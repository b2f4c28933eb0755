package object

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
)

// FieldError is a value the API server would refuse to decode: a string
// where an integer belongs, a list where an object does. It names the field
// and where it is written, and never the value (which may be a secret).
type FieldError struct {
	Path     Path
	Location finding.Location
	// Message says what the field takes and what it holds, in the terms of
	// the Kubernetes API ("an integer", "a string"), not Go's.
	Message string
}

func (e *FieldError) Error() string {
	if len(e.Path) == 0 {
		return e.Message
	}
	return e.Path.String() + ": " + e.Message
}

// ErrorLocation is where err, an error about an object written at
// object, points: the field a *FieldError names, else the object.
func ErrorLocation(err error, object finding.Location) finding.Location {
	if fe := (*FieldError)(nil); errors.As(err, &fe) {
		return fe.Location
	}
	return object
}

// CheckTypes decodes an object of a kind built into Kubernetes into its API
// type, as the API server does before anything else, and returns a
// *FieldError at the first field whose value has the wrong type. Kinds the
// built-in scheme does not know (custom resources) are not checked. The pod
// template, when the object has one, is left to PodTemplate, which decodes
// it anyway: checking it here too would decode every pod spec twice.
func (o *Object) CheckTypes() error {
	gv, err := schema.ParseGroupVersion(o.Ref.APIVersion)
	if err != nil {
		return nil
	}
	v, err := scheme.Scheme.New(gv.WithKind(o.Ref.Kind))
	if err != nil {
		return nil
	}
	root := o.root
	if tp, ok := o.TemplatePath(); ok {
		if len(tp) == 0 {
			return nil // a Pod: all of it that matters is its template
		}
		root = without(root, tp)
	}
	if o.decode(root, v) == nil {
		return nil
	}
	return o.fieldError(root, reflect.TypeOf(v).Elem(), nil)
}

// without returns a copy of the mapping n without the field at p, sharing
// every node not on the way to it.
func without(n *yaml.Node, p Path) *yaml.Node {
	n = deref(n)
	if len(p) == 0 || p[0].Key == "" || n.Kind != yaml.MappingNode {
		return n
	}
	c := *n
	c.Content = make([]*yaml.Node, 0, len(n.Content))
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == p[0].Key {
			if len(p) == 1 {
				continue
			}
			v = without(v, p[1:])
		}
		c.Content = append(c.Content, k, v)
	}
	return &c
}

// fieldError finds the field under n, of type t at path at, that fails to
// decode. A child that fails on its own is searched in turn; when none
// does, n is the culprit. Each level decodes its children once, so the
// search costs the failed value's size times its depth, and runs only
// when decoding failed.
func (o *Object) fieldError(n *yaml.Node, t reflect.Type, at Path) *FieldError {
	n = deref(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	fails := func(c *yaml.Node, ct reflect.Type) bool {
		return o.decode(c, reflect.New(ct).Interface()) != nil
	}
	custom := reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]())
	switch {
	case custom:
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		if fields, ok := structFields(t); ok {
			kept := keptPairs(n)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if !kept[i/2] {
					continue
				}
				idx, ok := fields[n.Content[i].Value]
				if !ok {
					continue
				}
				ft := t.FieldByIndex(idx).Type
				if fails(n.Content[i+1], ft) {
					return o.fieldError(n.Content[i+1], ft, at.Key(n.Content[i].Value))
				}
			}
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			if fails(c, t.Elem()) {
				return o.fieldError(c, t.Elem(), at.Index(i))
			}
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		kept := keptPairs(n)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if kept[i/2] && fails(n.Content[i+1], t.Elem()) {
				return o.fieldError(n.Content[i+1], t.Elem(), at.Key(n.Content[i].Value))
			}
		}
	}
	loc := o.at(n)
	if k, _ := o.walkKey(at); k != nil && len(at) > 0 {
		loc = o.at(k)
	}
	return &FieldError{Path: at, Location: loc, Message: typeMessage(n, t)}
}

// keptPairs reports, for each pair of mapping n, whether its value is the
// one decoding keeps: a key written again later is overridden (see
// encoder.mapping), and its value, never decoded, is not where an error is.
func keptPairs(n *yaml.Node) []bool {
	kept := make([]bool, len(n.Content)/2)
	last := make(map[string]int, len(kept))
	for i := range kept {
		if k, err := mapKey(n.Content[2*i]); err == nil {
			last[k] = i
		}
	}
	for i := range kept {
		k, err := mapKey(n.Content[2*i])
		kept[i] = err != nil || last[k] == i
	}
	return kept
}

// typeMessage says what a field of type t takes and what n holds.
func typeMessage(n *yaml.Node, t reflect.Type) string {
	want := apiType(t)
	got := yamlType(n)
	custom := reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
	if got == "" || got == want || custom && n.Kind == yaml.ScalarNode {
		return "invalid value: must be " + want
	}
	return fmt.Sprintf("must be %s, not %s", want, got)
}

var (
	quantityType = reflect.TypeFor[resource.Quantity]()
	intstrType   = reflect.TypeFor[intstr.IntOrString]()
	timeType     = reflect.TypeFor[metav1.Time]()
	microType    = reflect.TypeFor[metav1.MicroTime]()
	durationType = reflect.TypeFor[metav1.Duration]()
)

// apiType names the kind of value a field of type t takes, as the API
// reference does.
func apiType(t reflect.Type) string {
	switch t {
	case quantityType:
		return "a quantity (such as 500m, 128Mi or 2)"
	case intstrType:
		return "an integer or a string"
	case timeType, microType:
		return "a timestamp (RFC 3339)"
	case durationType:
		return "a duration (such as 30s)"
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return "a valid value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64-encoded data"
		}
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a valid value"
}

// yamlType names what a node holds, as JSON would see it; "" when the
// type is right and the value is not (a malformed quantity).
func yamlType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return ""
}
