package check

import (
	"k8s.io/pod-security-admission/api"

	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/kubeguard/kubeguard/internal/fileset"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Options are the settings checks read.
type Options struct {
	// PodSecurity is the Pod Security Standards level and version every
	// pod template is held to, parsed once where the user gave it. Nil
	// holds pod templates only to their namespace's labels (the webhook,
	// where Pod Security Admission itself judges the request's level).
	PodSecurity *api.LevelVersion
	// AllowedRegistries, when set, are the only image registries (or
	// registry/path prefixes) images may come from.
	AllowedRegistries []string
	// Namespace, when set, is the namespace objects that name none are
	// applied to (kubectl apply -n): the engine gives it to them, and
	// refuses objects naming another.
	Namespace string
	// TrustedHostPaths are hostPath prefixes the sensitive-mount check
	// accepts (a log collector's /var/log, say).
	TrustedHostPaths []string
	// NoRBACDefaults leaves the API server's built-in roles out of the
	// RBAC analysis checks ask for, which otherwise resolves a binding to
	// cluster-admin, say, with the role every cluster has.
	NoRBACDefaults bool
	// StrictFields refuses objects with fields their API type lacks, as
	// kubectl apply's default strict field validation has the API server
	// do. Manifests (scan) are held to it; objects read from the API
	// server (cluster, the webhook) have been decoded by it already, and a
	// field of a newer server than this build's API types is not an error.
	StrictFields bool
}

// Context is what checks see beyond the object at hand. It is read-only
// once the main pass starts.
//
// The input may define one kind/namespace/name more than once: a
// repository with envs/prod/app.yaml and envs/staging/app.yaml, each with
// NetworkPolicy shop/web, or two twins of an example app. Such copies never
// hide one another. Where two copies sit in different files, the files
// below the directory they part at are separate file sets (envs/prod and
// envs/staging): an object is related only to the objects of its own set
// and of no set (envs/common.yaml), and of several copies in reach, to the
// nearest (the last in its own file, else the one in the file sharing most
// directories with it). For gives the context as seen from an object; the
// duplicate-object check names every copy.
type Context struct {
	Options Options
	*index
	// from is the object being checked, which Lookup and List answer
	// for; nil outside a pass.
	from *object.Object
}

// index is the shared part of a Context.
type index struct {
	byName map[string]map[string][]*object.Object // kind -> namespace/name -> copies in input order
	lists  map[string][]*object.Object            // kind -> objects by namespace/name, first copy of each
	// sets are the file sets where copies of a name part.
	sets fileset.Sets
	// copied are the kinds with a name defined more than once.
	copied map[string]bool
	// inFile is the last copy of a name defined more than once, in each
	// file that holds one.
	inFile map[fileKey]*object.Object
	// under is the first copy of a name defined more than once below
	// each directory of its files.
	under map[fileKey]*object.Object
	// views caches List per kind and file set, as seen from objects
	// with file sets: kind + "\x00" + view key -> []*object.Object.
	views sync.Map
	// pods is the summary of the input's pod templates, when a check
	// needs PodTemplates across the input.
	pods PodSummary
	// memos holds what Memo built: key + "\x00" + where it was seen
	// from -> *memo.
	memos sync.Map
}

// memo is a value Memo builds once, however many passes ask for it at
// once.
type memo struct {
	once sync.Once
	v    any
}

// PodSummary is a compact summary of the pods and pod templates of the
// whole input, for checks that relate an object to the pods it concerns
// (a NetworkPolicy to the pods it selects) and declare PodTemplates in
// Needs. The input's objects are not kept for it: memory flat in the
// number of pods is the point. The run layer fills it before the main
// pass, from every object with a pod template, and gives it with
// SetPods; package netpol's Pods is one.
type PodSummary interface {
	// Add adds the pod template of an object of namespace ns.
	Add(ns string, t *object.PodTemplate) error
}

// SetPods gives the checks the summary of the input's pods. Call it before
// the main pass, once the summary is filled.
func (c *Context) SetPods(p PodSummary) { c.pods = p }

// Pods returns the summary of the input's pods, nil when the run layer
// made none (no check needs it, or the input has nothing for it to
// judge).
func (c *Context) Pods() PodSummary { return c.pods }

// NewContext indexes objects of the kinds checks need by kind and name.
func NewContext(opts Options, objs []*object.Object) *Context {
	x := &index{byName: map[string]map[string][]*object.Object{}, lists: map[string][]*object.Object{}, copied: map[string]bool{}}
	for _, o := range objs {
		if o.ApplyNamespace(opts.Namespace) != nil {
			continue // refused: the main pass reports it
		}
		m := x.byName[o.Ref.Kind]
		if m == nil {
			m = map[string][]*object.Object{}
			x.byName[o.Ref.Kind] = m
		}
		k := o.Ref.Namespace + "/" + o.Ref.Name
		m[k] = append(m[k], o)
	}
	for kind, m := range x.byName {
		keys := make([]string, 0, len(m))
		for k, copies := range m {
			keys = append(keys, k)
			if len(copies) > 1 {
				paths := make([]string, len(copies))
				for i, o := range copies {
					paths[i] = sourcePath(o.Source)
				}
				x.sets.AddCopies(paths)
				x.copied[kind] = true
				if x.inFile == nil {
					x.inFile = map[fileKey]*object.Object{}
				}
				if x.under == nil {
					x.under = map[fileKey]*object.Object{}
				}
				for _, o := range copies {
					p := filepath.ToSlash(sourcePath(o.Source))
					x.inFile[fileKey{kind, k, sourcePath(o.Source)}] = o
					for i := len(p); i >= 0; i-- {
						if i == 0 || p[i-1] == '/' {
							if dk := (fileKey{kind, k, p[:i]}); x.under[dk] == nil {
								x.under[dk] = o
							}
						}
					}
				}
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			x.lists[kind] = append(x.lists[kind], m[k][0])
		}
	}
	return &Context{Options: opts, index: x}
}

// For returns the context as seen from obj (see Context).
func (c *Context) For(obj *object.Object) *Context {
	if c.sets.Empty() {
		return c
	}
	return &Context{Options: c.Options, index: c.index, from: obj}
}

// visible reports whether o is in the file set of the object the context
// is seen from.
func (c *Context) visible(o *object.Object) bool {
	return c.from == nil || !c.sets.Separate(sourcePath(c.from.Source), sourcePath(o.Source))
}

// Lookup returns the indexed object of kind in namespace ns (empty for
// cluster-scoped kinds) named name, or nil.
func (c *Context) Lookup(kind, ns, name string) *object.Object {
	key := ns + "/" + name
	copies := c.byName[kind][key]
	if len(copies) == 1 && c.visible(copies[0]) {
		return copies[0]
	}
	if len(copies) < 2 {
		return nil
	}
	// In its own file the last copy wins, as applying the file would
	// leave it.
	from := ""
	if c.from != nil {
		from = filepath.ToSlash(sourcePath(c.from.Source))
		if o := c.inFile[fileKey{kind, key, sourcePath(c.from.Source)}]; o != nil {
			return o
		}
	}
	// Elsewhere the first copy in reach in the deepest directory that
	// holds both from's file and a copy. under answers the first copy of
	// each directory in constant time; when that one is out of reach, the
	// first maxNearest copies are weighed, so that a name defined in
	// thousands of files costs each lookup a bounded time.
	for d := from; ; {
		i := strings.LastIndexByte(d, '/')
		d = d[:i+1] // "" past the top
		if o := c.under[fileKey{kind, key, d}]; o != nil {
			if c.visible(o) {
				return o
			}
			for _, o := range copies[:min(len(copies), maxNearest)] {
				if strings.HasPrefix(filepath.ToSlash(sourcePath(o.Source)), d) && c.visible(o) {
					return o
				}
			}
		}
		if d == "" {
			return nil
		}
		d = d[:len(d)-1]
	}
}

// maxNearest bounds the copies of one name Lookup weighs in a directory
// whose first copy is out of reach.
const maxNearest = 64

// fileKey names the copies of one name in one file or, for under, one
// directory (with its trailing slash; "" for the top).
type fileKey struct{ kind, name, file string }

// List returns the indexed objects of a kind in the file set of the object
// the context is seen from, ordered by namespace and name, one copy of
// each name. The slice is shared: do not modify it.
func (c *Context) List(kind string) []*object.Object {
	list := c.lists[kind]
	if c.from == nil || c.sets.Empty() {
		return list
	}
	from := sourcePath(c.from.Source)
	// The objects in reach are the same for every file of a view, and
	// cached; which copy of a name is nearest depends on the file, so a
	// kind with copies is listed anew, at the cost of reading the list
	// that every caller pays anyway.
	key := kind + "\x00" + c.sets.Key(from)
	if v, ok := c.views.Load(key); ok {
		return v.([]*object.Object)
	}
	out := make([]*object.Object, 0, len(list))
	for _, o := range list {
		if o = c.Lookup(kind, o.Ref.Namespace, o.Ref.Name); o != nil {
			out = append(out, o)
		}
	}
	if !c.copied[kind] {
		c.views.Store(key, out)
	}
	return out
}

// Memo returns build's value for key, built once for the whole input and
// shared by every pass: a check relating each object to an index of the
// input (the bindings by subject) builds it once, not per object. build
// must not depend on the object the context is seen from: it indexes All,
// and whoever reads the index keeps what the object can see (Lookup), so
// that copies in separate file sets cost one index, not one each. The
// value must not be modified.
func (c *Context) Memo(key string, build func() any) any {
	m, _ := c.memos.LoadOrStore(key, &memo{})
	e := m.(*memo)
	e.once.Do(func() { e.v = build() })
	return e.v
}

// All returns every object of a kind in the index, every copy of a name
// included (in input order), ordered by namespace and name, whatever file
// set the context is seen from. The slice is fresh.
func (c *Context) All(kind string) []*object.Object {
	var out []*object.Object
	for _, o := range c.lists[kind] {
		out = append(out, c.byName[kind][o.Ref.Namespace+"/"+o.Ref.Name]...)
	}
	return out
}

// Visible reports whether o, an object of the index, is the copy of its
// name the context's object sees (Lookup's answer).
func (c *Context) Visible(o *object.Object) bool {
	return c.Lookup(o.Ref.Kind, o.Ref.Namespace, o.Ref.Name) == o
}

// Duplicates returns every copy of obj's kind/namespace/name in the index,
// obj's own included, in input order, when there is more than one; nil
// otherwise. obj is matched by its place in the input, so that it may be
// the index's object or another reading of the same document.
func (c *Context) Duplicates(obj *object.Object) []*object.Object {
	copies := c.byName[obj.Ref.Kind][obj.Ref.Namespace+"/"+obj.Ref.Name]
	if len(copies) < 2 || !slices.ContainsFunc(copies, func(o *object.Object) bool { return o.Source == obj.Source }) {
		return nil
	}
	return copies
}

// sourcePath is the path an object was read from (fileset.Path).
func sourcePath(l finding.Location) string { return fileset.Path(l) }

// Engine runs a list of checks over objects. It is safe for concurrent use.
type Engine struct {
	checks  []Check
	context *Context
	// wantsTemplate says, per check, whether PodTemplates is among its
	// kinds: asked of every check for every object.
	wantsTemplate []bool
}

// NewEngine returns an engine for checks in context ctx.
func NewEngine(checks []Check, ctx *Context) *Engine {
	e := &Engine{checks: checks, context: ctx, wantsTemplate: make([]bool, len(checks))}
	for i, c := range checks {
		e.wantsTemplate[i] = slices.Contains(c.Kinds, PodTemplates)
	}
	return e
}

// Needs lists the kinds the engine's checks read across the input.
func Needs(checks []Check) []string {
	var kinds []string
	for _, c := range checks {
		for _, k := range c.Needs {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	return kinds
}

// Run checks one object. An error means the object could not be decoded
// for checking (a pod spec of the wrong shape, say); it names the field.
func (e *Engine) Run(obj *object.Object) ([]finding.Finding, error) {
	return e.RunAppend(nil, obj)
}

// RunAppend is Run appending the object's findings to dst, so that a caller
// collecting the findings of many objects keeps them in one list instead of
// copying each object's list into it (findings are a few hundred bytes
// each, and a large scan has hundreds of thousands).
func (e *Engine) RunAppend(dst []finding.Finding, obj *object.Object) ([]finding.Finding, error) {
	return e.run(context.Background(), dst, obj)
}

// RunContext is Run stopping between checks once ctx is done, with ctx's
// error: an admission review that has been answered (timed out) must not
// keep a core busy with the rest of the catalogue.
func (e *Engine) RunContext(ctx context.Context, obj *object.Object) ([]finding.Finding, error) {
	return e.run(ctx, nil, obj)
}

// run is RunAppend, stopping between checks once ctx is done.
func (e *Engine) run(ctx context.Context, dst []finding.Finding, obj *object.Object) ([]finding.Finding, error) {
	var (
		tmpl    *object.PodTemplate
		decoded bool
	)
	// One pass serves every check of the object in turn: checks do not
	// keep it (Run must not keep state), and a pass per check was an
	// allocation per check and object.
	// An object the API server would refuse to decode is an input error,
	// not an object to judge: checks reading its fields would see zero
	// values and pass it.
	if err := obj.ApplyNamespace(e.context.Options.Namespace); err != nil {
		return dst, fmt.Errorf("%s: %w", obj.Ref, err)
	}
	if err := obj.CheckTypes(); err != nil {
		return dst, fmt.Errorf("%s: %w", obj.Ref, err)
	}
	if e.context.Options.StrictFields {
		if err := obj.CheckFields(); err != nil {
			return dst, fmt.Errorf("%s: %w", obj.Ref, err)
		}
	}
	if err := obj.Validate(); err != nil {
		return dst, fmt.Errorf("%s: %w", obj.Ref, err)
	}
	pass := &Pass{Object: obj, Context: e.context.For(obj), findings: &dst}
	for i := range e.checks {
		c := &e.checks[i]
		if c.Run == nil {
			continue
		}
		if ctx.Err() != nil {
			return dst, context.Cause(ctx)
		}
		wantsTemplate := e.wantsTemplate[i]
		if !wantsTemplate && !slices.Contains(c.Kinds, obj.Ref.Kind) && !slices.Contains(c.Kinds, AnyKind) {
			continue
		}
		if wantsTemplate && !decoded {
			decoded = true
			t, err := obj.PodTemplate()
			if err != nil {
				return dst, fmt.Errorf("%s: %w", obj.Ref, err)
			}
			tmpl = t
		}
		if wantsTemplate && tmpl == nil && !slices.Contains(c.Kinds, obj.Ref.Kind) {
			continue
		}
		pass.Template, pass.check = tmpl, c
		c.Run(pass)
	}
	return dst, nil
}
