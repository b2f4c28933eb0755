package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/kubeguard/kubeguard/internal/fileset"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// View is the RBAC state one file set of the input describes.
//
// An input may define one Role, binding, ServiceAccount, Namespace or
// workload more than once: envs/prod/rbac.yaml and envs/staging/rbac.yaml
// both defining ClusterRole app, one granting get on Secrets, the other
// everything. Merging them, or keeping the last, would hide a real grant
// or judge prod's bindings by staging's role. Where two copies of a name
// sit in different files, the files below the directory where they part
// are separate file sets (package fileset, as kubeguard scan parts them),
// and each set is analysed on its own, with the objects of its own files
// and of the files above it or outside every set (envs/base.yaml, the
// built-in roles): one View each. Copies within one file set are applied
// in input order, the last one winning, as kubectl apply would leave them.
type View struct {
	// Name names the file set (envs/prod); "" when the input is one.
	Name string
	*Policy
	// key is the file set's fileset key, in the sets of the input.
	key  string
	sets *fileset.Sets
}

// copyAt is the first and the last object of the input with a name.
type copyAt struct {
	first, last *Origin
}

// see notes an object of the input with a name (kind/namespace/name) and
// returns the one it replaces, nil for the first. Copies of a name are
// weighed, each against the first and the one before it (as
// fileset.AddCopies weighs them), for the file sets they part, except in
// the policy of a view, which is one set.
func (b *Builder) see(key string, o *Origin) (prev *Origin) {
	at, ok := b.seen[key]
	if !ok || at.last.Source.File == DefaultsFile {
		// The input's first copy, which may replace a built-in object.
		b.seen[key] = copyAt{first: o, last: o}
		return at.last
	}
	if !b.view {
		p := fileset.Path(o.Source)
		b.sets.Part(fileset.Path(at.first.Source), p)
		b.sets.Part(fileset.Path(at.last.Source), p)
	}
	b.seen[key] = copyAt{first: at.first, last: o}
	return at.last
}

// chunk is the number of decoded objects in each chunk of Builder.all
// but the first few, which grow to it from firstChunk (a builder of a
// few objects, as scan makes one per pod, stays small): filled in turn,
// they are never copied as the input grows.
const chunk, firstChunk = 4096, 16

// record keeps a decoded object of the input for Views, and notes where
// the objects the analysis reads other than roles and bindings (which
// dedupe notes) are defined.
func (b *Builder) record(d Decoded) {
	if d.origin == nil {
		return
	}
	if n := len(b.all); n == 0 {
		b.all = append(b.all, make([]Decoded, 0, firstChunk))
	} else if c := b.all[n-1]; len(c) == cap(c) {
		b.all = append(b.all, make([]Decoded, 0, min(chunk, 2*cap(c))))
	}
	last := &b.all[len(b.all)-1]
	*last = append(*last, d)
	if d.err != nil || d.role != nil || d.binding != nil {
		return
	}
	r := d.origin.Ref
	switch {
	case d.sa != nil, d.secret != nil, d.workload != nil, d.scopeKey != "", r.Kind == "Namespace" && r.APIVersion == "v1":
		ns := r.Namespace
		if d.defaulted {
			ns = d.namespace
		}
		b.see(ref(r.Kind, ns, r.Name), d.origin)
	}
}

// each calls f with the objects recorded, in input order.
func (b *Builder) each(f func(*Decoded)) {
	for _, c := range b.all {
		for i := range c {
			f(&c[i])
		}
	}
}

// Views builds the policy of each file set of the input (see View), or,
// when no name is defined in two file sets (the usual input), the one
// policy Build makes, named "". Views are ordered by name. The builder
// must not be used afterwards.
//
// Each object is added to the views of the sets its file is in, and the
// built-in roles to every view: the cost is that of building each view,
// the objects of each set once and those shared by several sets once per
// set that sees them. Objects added as typed values (AddInput) have no
// file: they are left out of views, and belong only to an input without
// copies in separate file sets.
func (b *Builder) Views() []View {
	b.init()
	if b.sets.Empty() {
		return []View{{Policy: b.Build()}}
	}
	// The objects of each file set key, in input order.
	byKey := map[string][]int{}
	keyOf := map[string]string{} // file -> key
	var all []*Decoded
	b.each(func(d *Decoded) { all = append(all, d) })
	for i, d := range all {
		p := fileset.Path(d.origin.Source)
		k, ok := keyOf[p]
		if !ok {
			k = b.sets.Key(p)
			keyOf[p] = k
		}
		byKey[k] = append(byKey[k], i)
	}
	// A view for each key no other key extends: the deepest file sets.
	// Keys sorted, a key that another begins with is followed by one.
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var views []View
	// The views share the sets, not the builder, whose copy of the input
	// is garbage once they are built.
	sets := &fileset.Sets{}
	*sets = b.sets
	for i, k := range keys {
		if i+1 < len(keys) && strings.HasPrefix(keys[i+1], k) || k == "" {
			continue
		}
		views = append(views, View{Name: fileset.Name(k), key: k, sets: sets})
	}
	slices.SortFunc(views, func(x, y View) int { return cmp.Compare(x.Name, y.Name) })
	var problems, warnings inputErrors
	for i := range views {
		v := &views[i]
		// The objects of the view's key and of every key it begins with
		// (the sets above it, and "" for files in no set), in input order.
		var idx []int
		for n := 0; ; {
			idx = append(idx, byKey[v.key[:n]]...)
			j := strings.IndexByte(v.key[n:], 0)
			if j < 0 {
				break
			}
			n += j + 1
		}
		slices.Sort(idx)
		vb := &Builder{Namespace: b.Namespace, view: true}
		vb.init()
		for _, d := range b.defaults {
			vb.addDefault(d)
		}
		vb.p.DefaultsLoaded = b.p.DefaultsLoaded
		for _, j := range idx {
			vb.add(*all[j])
		}
		v.Policy = vb.Build()
		problems.add(v.Policy.Problems...)
		warnings.add(v.Policy.Warnings...)
	}
	// Whether the input looks namespace-less is a question about all of
	// it, asked once: each view would count its own objects.
	n := len(b.p.Warnings)
	b.warnNamespaceless()
	warnings.add(b.p.Warnings[n:]...)
	warnings.add(b.partedCopies()...)
	// Every view holds the input's problems and warnings, each once:
	// reports print those of the first.
	for i := range views {
		views[i].Problems, views[i].Warnings = problems.list, warnings.list
	}
	return views
}

// partedCopies warns of each name defined in separate file sets, at the
// last copy, naming the first.
func (b *Builder) partedCopies() []finding.InputError {
	var out []finding.InputError
	for k, at := range b.seen {
		if !b.sets.Separate(fileset.Path(at.first.Source), fileset.Path(at.last.Source)) {
			continue
		}
		out = append(out, finding.InputError{Location: at.last.Source, Message: fmt.Sprintf(
			"%s is also defined at %s, in another file set: the files below the directory where copies part are analysed each set on its own", k, at.first.Source)})
	}
	slices.SortFunc(out, func(x, y finding.InputError) int {
		return cmp.Or(cmp.Compare(x.Location.File, y.Location.File), cmp.Compare(x.Location.Template, y.Location.Template),
			cmp.Compare(x.Location.Line, y.Location.Line), cmp.Compare(x.Location.Column, y.Location.Column), cmp.Compare(x.Message, y.Message))
	})
	return out
}

// inputErrors collects input errors, each once, in the order first met.
type inputErrors struct {
	list []finding.InputError
	seen map[finding.InputError]bool
}

func (l *inputErrors) add(es ...finding.InputError) {
	if l.seen == nil {
		l.seen = map[finding.InputError]bool{}
	}
	for _, e := range es {
		if !l.seen[e] {
			l.seen[e] = true
			l.list = append(l.list, e)
		}
	}
}

// ViewNames names views for a reader: envs/prod, envs/staging; past the
// first few, how many more.
func ViewNames(vs []View) string {
	const most = 8
	names := make([]string, 0, min(len(vs), most+1))
	for _, v := range vs[:min(len(vs), most)] {
		names = append(names, v.Name)
	}
	if len(vs) > most {
		names = append(names, fmt.Sprintf("and %d more", len(vs)-most))
	}
	return strings.Join(names, ", ")
}

// RisksOf is Risks over every view, each finding once: a finding every
// view that sees its object reports is reported as it is, and one that
// only some of them report (a binding of a shared file whose ClusterRole
// differs per file set) says in which file sets it holds. Findings about
// an object of one file set name that object and its place, as in any
// report.
func RisksOf(views []View) []finding.Finding {
	if len(views) == 1 {
		return Risks(views[0].Policy)
	}
	type seen struct {
		at    int      // index in out
		views []string // names of the views reporting it
	}
	var out []finding.Finding
	index := map[string]*seen{}
	for _, v := range views {
		for _, f := range Risks(v.Policy) {
			k := findingKey(&f)
			if s := index[k]; s != nil {
				s.views = append(s.views, v.Name)
				continue
			}
			index[k] = &seen{at: len(out), views: []string{v.Name}}
			out = append(out, f)
		}
	}
	keys := make([]string, len(views))
	for i, v := range views {
		keys[i] = v.key
	}
	slices.Sort(keys)
	// How many views see a file set key: those whose keys begin with it,
	// contiguous among the sorted keys.
	seeing := func(k string) int {
		i := sort.SearchStrings(keys, k)
		j := i + sort.Search(len(keys)-i, func(n int) bool { return !strings.HasPrefix(keys[i+n], k) })
		return j - i
	}
	sets := views[0].sets
	for _, s := range index {
		f := &out[s.at]
		if n := seeing(sets.Key(fileset.Path(f.Location))); len(s.views) < n {
			sets := "file set"
			if len(s.views) > 1 {
				sets += "s"
			}
			f.Detail += fmt.Sprintf(" (in %s %s; not in the other file sets that include %s)", sets, strings.Join(s.views, ", "), fileset.Path(f.Location))
		}
	}
	return out
}

// findingKey identifies a finding across views.
func findingKey(f *finding.Finding) string {
	return strings.Join([]string{f.CheckID, f.Severity.String(), f.Object.String(), f.Path, f.Location.String(), f.Reason, f.Detail}, "\x00")
}
