package check

import (
	"k8s.io/pod-security-admission/api"

	"context"
	"fmt"
	"slices"

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
	// TrustedHostPaths are hostPath prefixes the sensitive-mount check
	// accepts (a log collector's /var/log, say).
	TrustedHostPaths []string
	// NoRBACDefaults leaves the API server's built-in roles out of the
	// RBAC analysis checks ask for, which otherwise resolves a binding to
	// cluster-admin, say, with the role every cluster has.
	NoRBACDefaults bool
}

// Context is what checks see beyond the object at hand. It is read-only
// once the main pass starts.
type Context struct {
	Options Options
	index   map[string]map[string]*object.Object // kind -> namespace/name -> object
	lists   map[string][]*object.Object          // kind -> objects by namespace/name
}

// NewContext indexes objects of the kinds checks need by kind and name.
func NewContext(opts Options, objs []*object.Object) *Context {
	c := &Context{Options: opts, index: map[string]map[string]*object.Object{}, lists: map[string][]*object.Object{}}
	for _, o := range objs {
		m := c.index[o.Ref.Kind]
		if m == nil {
			m = map[string]*object.Object{}
			c.index[o.Ref.Kind] = m
		}
		m[o.Ref.Namespace+"/"+o.Ref.Name] = o
	}
	for kind, m := range c.index {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			c.lists[kind] = append(c.lists[kind], m[k])
		}
	}
	return c
}

// Lookup returns the indexed object of kind in namespace ns (empty for
// cluster-scoped kinds) named name, or nil.
func (c *Context) Lookup(kind, ns, name string) *object.Object {
	return c.index[kind][ns+"/"+name]
}

// List returns the indexed objects of a kind, ordered by namespace and
// name. The slice is shared: do not modify it.
func (c *Context) List(kind string) []*object.Object { return c.lists[kind] }

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
	return e.run(nil, dst, obj)
}

// RunContext is Run stopping between checks once ctx is done, with ctx's
// error: an admission review that has been answered (timed out) must not
// keep a core busy with the rest of the catalogue.
func (e *Engine) RunContext(ctx context.Context, obj *object.Object) ([]finding.Finding, error) {
	return e.run(ctx, nil, obj)
}

// run is RunAppend, watching ctx when it is not nil.
func (e *Engine) run(ctx context.Context, dst []finding.Finding, obj *object.Object) ([]finding.Finding, error) {
	var (
		tmpl    *object.PodTemplate
		decoded bool
	)
	// One pass serves every check of the object in turn: checks do not
	// keep it (Run must not keep state), and a pass per check was an
	// allocation per check and object.
	pass := &Pass{Object: obj, Context: e.context, findings: &dst}
	for i := range e.checks {
		c := &e.checks[i]
		if c.Run == nil {
			continue
		}
		if ctx != nil && ctx.Err() != nil {
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
