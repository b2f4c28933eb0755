package rbac

import (
	"slices"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Origin is an object of the input as the analysis reports on it: its
// reference, where it starts, and where the fields that findings, grants
// and input problems point at are written. Decode records it from the
// object's tree, so that the tree is garbage as soon as the object is
// decoded: the trees of a large input are most of what reading it
// allocates, and keeping them until the reports were written made the
// heap, and the page faults that build it, several times the policy's.
// Typed input (a live cluster's roles, say) has none.
type Origin struct {
	Ref    finding.ObjectRef
	Source finding.Location
	fields []field
}

// field is where the field at path is written, as object.Object.Locate
// finds it.
type field struct {
	path         object.Path
	line, column int32
}

// Paths of the fields reports point at; Decode records them.
var (
	roleRefPath         = object.Path{}.Key("roleRef")
	roleRefNamePath     = roleRefPath.Key("name")
	kindPath            = object.Path{}.Key("kind")
	aggregationRulePath = object.Path{}.Key("aggregationRule")
)

func rulePath(i int) object.Path    { return indexed(rulePaths, "rules", i) }
func subjectPath(i int) object.Path { return indexed(subjectPaths, "subjects", i) }

// rulePaths and subjectPaths are rules[i] and subjects[i] for the first
// indexes, built once, since every role and binding records them.
var rulePaths, subjectPaths = indexedPaths("rules"), indexedPaths("subjects")

func indexedPaths(key string) []object.Path {
	paths := make([]object.Path, 32)
	for i := range paths {
		paths[i] = object.Path{}.Key(key).Index(i)
	}
	return paths
}

// indexed is key[i], from paths when it holds it.
func indexed(paths []object.Path, key string, i int) object.Path {
	if i < len(paths) {
		return paths[i]
	}
	return object.Path{}.Key(key).Index(i)
}

func newOrigin(o *object.Object) *Origin { return &Origin{Ref: o.Ref, Source: o.Source} }

// record notes where the field at p is written in o.
func (g *Origin) record(o *object.Object, p object.Path) {
	loc, _ := o.Locate(p)
	g.fields = append(g.fields, field{path: p, line: int32(loc.Line), column: int32(loc.Column)})
}

// Locate is where the field at p is written: the key that names it or,
// when it is absent, its deepest present ancestor, as
// object.Object.Locate says. p is one of the paths Decode recorded for
// the object; any other is located at the object itself.
func (g *Origin) Locate(p object.Path) finding.Location {
	loc := g.Source
	if i := slices.IndexFunc(g.fields, func(f field) bool { return slices.Equal(f.path, p) }); i >= 0 {
		loc.Line, loc.Column = int(g.fields[i].line), int(g.fields[i].column)
	}
	return loc
}

// recordRole notes the fields of role r, read from o, that reports point
// at: each rule (grants), its nonResourceURLs (invalid input) and its
// first wildcard field (wildcards), and the aggregationRule (invalid
// input).
func (g *Origin) recordRole(o *object.Object, r *Role) {
	g.fields = make([]field, 0, len(r.Rules))
	for i := range r.Rules {
		rule := &r.Rules[i]
		p := rulePath(i)
		g.record(o, p)
		if len(rule.NonResourceURLs) > 0 {
			g.record(o, p.Key("nonResourceURLs"))
		}
		if f := wildcardFields(rule); len(f) > 0 {
			g.record(o, p.Key(f[0]))
		}
	}
	if r.Aggregation != nil {
		g.record(o, aggregationRulePath)
	}
}

// recordBinding notes the fields of binding b, read from o, that reports
// point at: each subject (findings about whom it names, invalid
// subjects), the roleRef (findings about what it grants, invalid
// references) and its name (missing roles), and the kind of a
// ClusterRoleBinding (one that a RoleBinding would do).
func (g *Origin) recordBinding(o *object.Object, b *Binding) {
	g.fields = make([]field, 0, len(b.Subjects)+3)
	for i := range b.Subjects {
		g.record(o, subjectPath(i))
	}
	g.record(o, roleRefPath)
	g.record(o, roleRefNamePath)
	if b.Cluster() {
		g.record(o, kindPath)
	}
}

// serviceAccountPath is where a workload names its ServiceAccount, which
// findings about its token point at.
func (w *Workload) serviceAccountPath() object.Path { return w.SpecPath.Key("serviceAccountName") }
