// Package serviceaccount holds the checks of the identity pods run as:
// ServiceAccount tokens mounted where no API access is needed, the shared
// default ServiceAccount, legacy long-lived token Secrets, and the
// ServiceAccount's restriction of the Secrets its pods may use.
//
// A pod's ServiceAccount is looked up in the input by the pod's own
// metadata.namespace, the way the namespace checks match objects: objects
// that name no namespace are matched with one another, since applied
// together they land together. A ServiceAccount that is not in the input
// is judged by the API server's defaults (tokens are mounted, nothing is
// restricted).
package serviceaccount

import (
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Category is the category of every check of this package.
const Category = "ServiceAccounts"

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	TokenAutomount,
	DefaultServiceAccount,
	LegacyToken,
	MountableSecrets,
	SubjectNamespace,
}

const (
	serviceAccountKind = "ServiceAccount"
	// defaultName is the ServiceAccount the API server gives pods that
	// name none.
	defaultName = "default"
)

// podServiceAccount is the ServiceAccount a pod template runs as, and the
// field that says so (where serviceAccountName belongs when none does).
func podServiceAccount(t *object.PodTemplate) (name string, path object.Path, set bool) {
	name, field, set := podServiceAccountName(t)
	return name, t.SpecPath().Key(field), set
}

// podServiceAccountName is podServiceAccount with the field's name rather
// than its path, for the checks that only want the ServiceAccount. The
// deprecated serviceAccount field still sets it when serviceAccountName is
// empty, as the API server's conversion does.
func podServiceAccountName(t *object.PodTemplate) (name, field string, set bool) {
	switch {
	case t.Spec.ServiceAccountName != "":
		return t.Spec.ServiceAccountName, "serviceAccountName", true
	case t.Spec.DeprecatedServiceAccount != "":
		return t.Spec.DeprecatedServiceAccount, "serviceAccount", true
	}
	return defaultName, "serviceAccountName", false
}

// account is a ServiceAccount of the input, decoded.
type account struct {
	Object *object.Object
	corev1.ServiceAccount
}

// saRef names a ServiceAccount as every output does, namespace/name; a
// namespace left out of a manifest is the one the object lands in.
func saRef(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// ref names the ServiceAccount as a finding does.
func (a *account) ref() string {
	if a.Object.Ref.Namespace == "" {
		return "ServiceAccount " + strconv.Quote(a.Name)
	}
	return "ServiceAccount " + a.Object.Ref.Namespace + "/" + a.Name
}

// serviceAccount returns the pod's ServiceAccount when the input holds it,
// decoded once per pod for all the checks that read it.
func serviceAccount(p *check.Pass, name string) *account {
	return p.Memo("serviceaccount/"+name, func() any {
		o := p.Context.Lookup(serviceAccountKind, p.Object.Ref.Namespace, name)
		if o == nil || o.Ref.APIVersion != "v1" {
			return (*account)(nil)
		}
		a := &account{Object: o}
		if err := o.Decode(object.Path{}, &a.ServiceAccount); err != nil {
			// The API server rejects such a ServiceAccount: judge the pod
			// as if it were not in the input.
			return (*account)(nil)
		}
		return a
	}).(*account)
}

// rbacKinds are the kinds the RBAC analysis reads besides the workload and
// its ServiceAccount.
var rbacKinds = []string{rbac.KindRoleBinding, rbac.KindClusterRoleBinding, rbac.KindRole, rbac.KindClusterRole}

// tokenPowers asks package rbac which risky permissions the pod's
// ServiceAccount's token carries through the bindings of the input, and
// whether a binding of the input names the ServiceAccount itself (the
// install grants its own ServiceAccount API access: the workload evidently
// calls the API).
//
// The analysis is package rbac's (the probes and severities of `kubeguard
// rbac risks`); this only chooses its input. A policy of every RBAC object
// for every pod would cost the whole RBAC analysis per pod, so the policy
// holds only the bindings with a subject that can be the ServiceAccount
// (its name, its user name, or one of the groups its tokens carry; package
// rbac decides which really are), the roles they refer to, and the
// ClusterRoles those aggregate, transitively. A binding to a ClusterRole
// the input does not define, cluster-admin say, is resolved with the API
// server's built-in role of that name, as every cluster has it (unless
// --no-defaults). The bindings by subject and the roles each aggregated
// role selects are indexed once per input (Context.Memo), and each role
// and binding decoded once, so that each pod costs what concerns it, not
// the whole input.
func tokenPowers(p *check.Pass, sa *account, name string) (powers []rbac.TokenPower, named bool) {
	ctx := p.Context
	if len(ctx.List(rbac.KindRoleBinding)) == 0 && len(ctx.List(rbac.KindClusterRoleBinding)) == 0 {
		return nil, false // the usual scan of workloads alone
	}
	id := rbac.Identity{Kind: rbacv1.ServiceAccountKind, Namespace: orDefault(p.Object.Ref.Namespace), Name: name}
	user := id.User()
	var (
		b         rbac.Builder
		roles     []*object.Object
		aggregate bool
		builtin   bool // a binding refers to a built-in role the input lacks
	)
	bindings := ctx.Memo("serviceaccount/bindings", func() any { return indexBindings(ctx) }).(*bindingIndex)
	decoded := ctx.Memo("serviceaccount/decoded", func() any { return new(sync.Map) }).(*sync.Map)
	add := func(o *object.Object) {
		d, ok := decoded.Load(o)
		if !ok {
			d, _ = decoded.LoadOrStore(o, rbac.Decode(o))
		}
		b.AddDecoded(d.(rbac.Decoded))
	}
	candidates := bindings.concerning(ctx, name, user)
	for _, c := range candidates {
		kind, o, v := c.kind, c.o, c.binding
		named = named || slices.ContainsFunc(v.Subjects, func(s rbacv1.Subject) bool {
			ns := s.Namespace
			if ns == "" && kind == rbac.KindRoleBinding {
				ns = o.Ref.Namespace // a RoleBinding's subject defaults to its namespace, as the authorizer reads it
			}
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == name && orDefault(ns) == id.Namespace
		})
		add(o)
		var r *object.Object
		switch v.RoleRef.Kind {
		case rbac.KindRole:
			r = ctx.Lookup(rbac.KindRole, o.Ref.Namespace, v.RoleRef.Name)
		case rbac.KindClusterRole:
			r = ctx.Lookup(rbac.KindClusterRole, "", v.RoleRef.Name)
			if r == nil && !ctx.Options.NoRBACDefaults {
				r = builtinClusterRoles()[v.RoleRef.Name]
				builtin = builtin || r != nil
			}
			aggregate = aggregate || r != nil && r.Field(aggregationRulePath) != nil
		}
		if r != nil && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	if len(candidates) == 0 {
		return nil, false
	}
	if aggregate {
		sel := ctx.Memo("serviceaccount/aggregation", func() any { return indexAggregation(ctx) }).(aggregation)
		roles = sel.closure(ctx, roles, builtin)
	}
	for _, r := range roles {
		add(r)
	}
	if sa != nil {
		b.Add(sa.Object)
	}
	return rbac.TokenPowers(b.Build(), id), named
}

// bound is a binding of the input, its kind, and what the check reads of
// it.
type bound struct {
	kind    string
	o       *object.Object
	binding *bindingFields
}

type bindingFields struct {
	RoleRef  rbacv1.RoleRef   `json:"roleRef"`
	Subjects []rbacv1.Subject `json:"subjects"`
}

// bindingIndex holds the input's bindings, every copy of a name (Context.All),
// ClusterRoleBindings first, each kind by namespace and name, and where
// each is among them by the subjects it names: kind + "\x00" + name. A
// binding that does not decode is left out: the API server refuses it,
// and scan reports it.
type bindingIndex struct {
	all       []bound
	bySubject map[string][]int
}

func indexBindings(ctx *check.Context) *bindingIndex {
	x := &bindingIndex{bySubject: map[string][]int{}}
	for _, kind := range []string{rbac.KindClusterRoleBinding, rbac.KindRoleBinding} {
		for _, o := range ctx.All(kind) {
			v := new(bindingFields)
			if o.Decode(object.Path{}, v) != nil {
				continue
			}
			i := len(x.all)
			x.all = append(x.all, bound{kind, o, v})
			for j := 0; o.Field(subjectsPath.Index(j)) != nil; j++ {
				s := subjectsPath.Index(j)
				k := scalar(o, s.Key("kind")) + "\x00" + scalar(o, s.Key("name"))
				if l := x.bySubject[k]; len(l) == 0 || l[len(l)-1] != i {
					x.bySubject[k] = append(l, i)
				}
			}
		}
	}
	return x
}

// concerning returns the bindings ctx's object sees with a subject that
// can be the ServiceAccount name: one of its name, its user name, or a
// group its tokens carry; package rbac then decides, with the namespaces,
// which subjects really are the ServiceAccount. They come in the index's
// order, one copy of each name, as ctx.List gives them.
func (x *bindingIndex) concerning(ctx *check.Context, name string, user rbac.User) []bound {
	var at []int
	at = append(at, x.bySubject[rbacv1.ServiceAccountKind+"\x00"+name]...)
	at = append(at, x.bySubject[rbacv1.UserKind+"\x00"+user.Name]...)
	for _, g := range user.Groups {
		at = append(at, x.bySubject[rbacv1.GroupKind+"\x00"+g]...)
	}
	slices.Sort(at)
	at = slices.Compact(at)
	out := make([]bound, 0, len(at))
	for _, j := range at {
		if ctx.Visible(x.all[j].o) {
			out = append(out, x.all[j])
		}
	}
	return out
}

var aggregationRulePath = object.Path{}.Key("aggregationRule")

// aggregation is, for each ClusterRole with an aggregationRule, the
// ClusterRoles its selectors select among every ClusterRole of the input
// (every copy of a name) and the built-in ones, and the place of each
// among those candidates (the built-in ones first).
type aggregation struct {
	selects map[*object.Object][]*object.Object
	place   map[*object.Object]int
}

// indexAggregation selects, once per input, the ClusterRoles each
// aggregated ClusterRole gathers rules from. Which of them a pod's policy
// holds is closure's to decide, with what the pod sees. A selector the API
// server would refuse selects nothing here; package rbac reports it.
func indexAggregation(ctx *check.Context) aggregation {
	candidates := slices.Concat(slices.Collect(maps.Values(builtinClusterRoles())), ctx.All(rbac.KindClusterRole))
	sel := aggregation{selects: map[*object.Object][]*object.Object{}, place: make(map[*object.Object]int, len(candidates))}
	for i, r := range candidates {
		sel.place[r] = i
		if r.Field(aggregationRulePath) == nil {
			continue
		}
		var v struct {
			AggregationRule *rbacv1.AggregationRule `json:"aggregationRule"`
		}
		if r.Decode(object.Path{}, &v) != nil || v.AggregationRule == nil {
			continue
		}
		var picked []*object.Object
		for i := range v.AggregationRule.ClusterRoleSelectors {
			s, err := metav1.LabelSelectorAsSelector(&v.AggregationRule.ClusterRoleSelectors[i])
			if err != nil {
				picked = nil
				break
			}
			for _, c := range candidates {
				if c != r && s.Matches(labels.Set(c.Labels)) {
					picked = append(picked, c)
				}
			}
		}
		sel.selects[r] = picked
	}
	return sel
}

// closure returns roles followed by every ClusterRole they aggregate,
// directly or through other aggregated roles (all that decides their
// rules), those in the candidates' order. Only the ClusterRoles ctx's
// object sees count: the input's copy of each name it sees, and a
// built-in one, when builtin is set (a binding refers to a built-in role,
// whose aggregation gathers from the built-in system:aggregate-to-*
// roles), only where the input defines none of its name in reach, as the
// input's role replaces it in a cluster.
func (a aggregation) closure(ctx *check.Context, roles []*object.Object, builtin bool) []*object.Object {
	defaults := builtinClusterRoles()
	seen := make(map[*object.Object]bool, len(roles))
	for _, r := range roles {
		seen[r] = true
	}
	out := roles
	for i := 0; i < len(out); i++ {
		for _, c := range a.selects[out[i]] {
			if seen[c] {
				continue
			}
			seen[c] = true
			inReach := ctx.Lookup(rbac.KindClusterRole, "", c.Ref.Name)
			if defaults[c.Ref.Name] == c && (!builtin || inReach != nil) || defaults[c.Ref.Name] != c && inReach != c {
				continue
			}
			out = append(out, c)
		}
	}
	added := out[len(roles):]
	slices.SortFunc(added, func(x, y *object.Object) int { return a.place[x] - a.place[y] })
	return out
}

// orDefault is the namespace an object without one lands in.
func orDefault(ns string) string {
	if ns == "" {
		return rbac.DefaultNamespace
	}
	return ns
}

// builtinClusterRoles are the API server's built-in ClusterRoles by name,
// read once from package rbac's data. A build without the data has none,
// and bindings to built-in roles are then resolved only from the input.
var builtinClusterRoles = sync.OnceValue(func() map[string]*object.Object {
	objs, _ := rbac.Defaults()
	roles := map[string]*object.Object{}
	for _, o := range objs {
		if o.Ref.Kind == rbac.KindClusterRole {
			roles[o.Ref.Name] = o
		}
	}
	return roles
})

var subjectsPath = object.Path{}.Key("subjects")

// scalar is the value of the scalar at p, "" when there is none.
func scalar(o *object.Object, p object.Path) string {
	if n := o.Field(p); n != nil {
		return n.Value
	}
	return ""
}

func quote(s string) string { return strconv.Quote(s) }
