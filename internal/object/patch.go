package object

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Change is one change of a fix: set the field at Path to Value, or
// remove it.
type Change struct {
	Path Path
	// Value is a string, bool, int, []string, map[string]any or []any.
	Value  any
	Remove bool
}

// mergeKeys are the keys that identify an item of a list in a strategic
// merge patch, by the list's field name, the first the item has: a
// container's ports by containerPort, a Service's by port.
var mergeKeys = map[string][]string{
	"containers": {"name"}, "initContainers": {"name"}, "ephemeralContainers": {"name"}, "volumes": {"name"},
	"ports": {"containerPort", "port"}, "env": {"name"}, "volumeMounts": {"mountPath"},
}

// Patch writes ops as the object's own YAML: the path from the
// object's root to each changed field, list items named by their merge key
// (a container by its name), a removed field as null. Applied as a
// strategic merge patch (kubectl patch, or by hand) it is the fix.
func (o *Object) Patch(ops []Change) string {
	type node struct {
		key      string
		item     string // "name: web" for a list item
		children []*node
		value    any
		leaf     bool
	}
	root := &node{}
	for _, x := range ops {
		n := root
		for i, e := range x.Path {
			label := e.Key
			item := ""
			if e.Key == "" {
				keys := []string{"name"}
				if i > 0 {
					if k, ok := mergeKeys[x.Path[i-1].Key]; ok {
						keys = k
					}
				}
				mk, v := keys[0], ""
				for _, k := range keys {
					if f := o.Field(append(slices.Clone(x.Path[:i+1]), Elem{Key: k})); f != nil && f.Value != "" {
						mk, v = k, f.Value
						break
					}
				}
				if v == "" {
					mk, v = "#", strconv.Itoa(e.Index)
				}
				item = mk + ": " + v
				label = "[" + item + "]"
			}
			var c *node
			for _, ch := range n.children {
				if ch.key == label {
					c = ch
				}
			}
			if c == nil {
				c = &node{key: label, item: item}
				n.children = append(n.children, c)
			}
			n = c
		}
		n.leaf, n.value = true, x.Value
		if x.Remove {
			n.value = nil
		}
	}
	var b strings.Builder
	var write func(n *node, indent string)
	write = func(n *node, indent string) {
		for _, c := range n.children {
			if c.item != "" {
				if strings.HasPrefix(c.item, "#") {
					fmt.Fprintf(&b, "%s- # item %s\n", indent, strings.TrimPrefix(c.item, "#: "))
				} else {
					fmt.Fprintf(&b, "%s- %s\n", indent, c.item)
				}
				write(c, indent+"  ")
				continue
			}
			if c.leaf {
				v := yamlValue(c.value, indent+"  ")
				if !strings.HasPrefix(v, "\n") {
					v = " " + v
				}
				fmt.Fprintf(&b, "%s%s:%s\n", indent, yamlKey(c.key), v)
				continue
			}
			fmt.Fprintf(&b, "%s%s:\n", indent, yamlKey(c.key))
			// A list's items sit at the key's indentation, as kubectl
			// writes them.
			if len(c.children) > 0 && c.children[0].item != "" {
				write(c, indent)
			} else {
				write(c, indent+"  ")
			}
		}
	}
	write(root, "  ")
	return strings.TrimRight(b.String(), "\n")
}

// yamlKey quotes a key that is not a plain word.
func yamlKey(k string) string {
	if strings.ContainsAny(k, ":#/ ") {
		return strconv.Quote(k)
	}
	return k
}

// yamlValue writes a fix's value in flow style.
func yamlValue(v any, indent string) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string]any:
		if len(v) == 0 {
			return "{}"
		}
	}
	// Two spaces a level, and list items at their key's indentation, as
	// kubectl writes manifests.
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	enc.Close()
	s := strings.TrimRight(b.String(), "\n")
	if strings.Contains(s, "\n") || strings.HasPrefix(s, "- ") {
		return "\n" + indent + strings.ReplaceAll(s, "\n", "\n"+indent)
	}
	return s
}
