package rbac

import (
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeguard/kubeguard/internal/object"
)

// Roles and bindings are most of an RBAC input, and decoding them through
// the general decoder (reflection over the whole object, every string
// copied) was the largest cost of building the policy after parsing. The
// readers below take their fields straight from the tree when the object is
// written in the plain shape manifests have; anything else (tags, anchors
// and aliases, merge keys, duplicate keys, non-string or block scalars,
// nulls, aggregationRule) returns ok false, and the caller takes the
// general path, which gives the result or the error. TestTreeReadMatchesDecode
// and FuzzTreeReadMatchesDecode hold the two paths to each other.

// treeMaxDepth and treeMaxBytes bound the plain trees: deeper or larger
// objects take the general path, which has its own limits.
const (
	treeMaxDepth = 64
	treeMaxBytes = 1 << 20
)

// plainGate takes trees made only of mappings with distinct plain string
// keys, sequences and untagged scalars in valid UTF-8 that are not
// infinities or NaN (plain scalars starting with '.', '+' or '-' are left
// out), without anchors, within treeMaxBytes: trees that convert to JSON
// without error, whatever they hold.
var plainGate = object.TreeGate{MaxDepth: treeMaxDepth, MaxBytes: treeMaxBytes, Strict: true, Key: func(k *yaml.Node) bool {
	_, ok := stringValue(k)
	return ok
}}

// stringValue is the string a scalar decodes to, ok false when it is not
// plainly a string: quoted scalars, and plain ones that start with a
// letter and are none of the YAML words for booleans and null. (Numbers,
// timestamps and the special floats start otherwise.) Block scalars and
// the merge key are left to the general path.
func stringValue(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Style&yaml.TaggedStyle != 0 || !utf8.ValidString(n.Value) {
		return "", false
	}
	switch n.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Value, true
	case 0:
	default:
		return "", false
	}
	s := n.Value
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return "", false
	}
	if len(s) <= 5 {
		switch strings.ToLower(s) {
		case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
			return "", false
		}
	}
	return s, true
}

// stringList reads a sequence of strings; an empty sequence is an empty,
// not a nil, list, as JSON's [] is.
func stringList(n *yaml.Node) ([]string, bool) {
	if n.Kind != yaml.SequenceNode {
		return nil, false
	}
	out := make([]string, len(n.Content))
	for i, c := range n.Content {
		s, ok := stringValue(c)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// fields calls f with each key and value of a mapping, ok false when n is
// not a mapping or f says so.
func fields(n *yaml.Node, f func(key string, v *yaml.Node) bool) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !f(n.Content[i].Value, n.Content[i+1]) {
			return false
		}
	}
	return true
}

// into reads a mapping's fields with read into the destinations dst gives
// for their keys; keys dst has none for (nil) are ignored, as unknown
// fields are.
func into[T any](n *yaml.Node, read func(*yaml.Node) (T, bool), dst func(key string) *T) bool {
	return fields(n, func(key string, v *yaml.Node) bool {
		d := dst(key)
		if d == nil {
			return true
		}
		x, ok := read(v)
		*d = x
		return ok
	})
}

// readRules reads a role's rules from its root mapping.
func readRules(root *yaml.Node) (rules []rbacv1.PolicyRule, ok bool) {
	if !plainGate.Plain(root) {
		return nil, false
	}
	ok = fields(root, func(key string, v *yaml.Node) bool {
		switch key {
		case "aggregationRule":
			return false
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return false
			}
			rules = make([]rbacv1.PolicyRule, len(v.Content))
			for i, item := range v.Content {
				r := &rules[i]
				if !into(item, stringList, func(key string) *[]string {
					switch key {
					case "verbs":
						return &r.Verbs
					case "apiGroups":
						return &r.APIGroups
					case "resources":
						return &r.Resources
					case "resourceNames":
						return &r.ResourceNames
					case "nonResourceURLs":
						return &r.NonResourceURLs
					}
					return nil
				}) {
					return false
				}
			}
		}
		return true
	})
	return rules, ok
}

// readBinding reads a binding's roleRef and subjects from its root mapping.
func readBinding(root *yaml.Node) (ref rbacv1.RoleRef, subjects []rbacv1.Subject, ok bool) {
	if !plainGate.Plain(root) {
		return ref, nil, false
	}
	ok = fields(root, func(key string, v *yaml.Node) bool {
		switch key {
		case "roleRef":
			return into(v, stringValue, func(key string) *string {
				switch key {
				case "apiGroup":
					return &ref.APIGroup
				case "kind":
					return &ref.Kind
				case "name":
					return &ref.Name
				}
				return nil
			})
		case "subjects":
			if v.Kind != yaml.SequenceNode {
				return false
			}
			subjects = make([]rbacv1.Subject, len(v.Content))
			for i, item := range v.Content {
				s := &subjects[i]
				if !into(item, stringValue, func(key string) *string {
					switch key {
					case "kind":
						return &s.Kind
					case "apiGroup":
						return &s.APIGroup
					case "name":
						return &s.Name
					case "namespace":
						return &s.Namespace
					}
					return nil
				}) {
					return false
				}
			}
		}
		return true
	})
	return ref, subjects, ok
}
