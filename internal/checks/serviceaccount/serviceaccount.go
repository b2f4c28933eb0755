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
// rbac decides which really are), the roles they refer to, and every
// ClusterRole when one of those aggregates others. A binding to a
// ClusterRole the input does not define, cluster-admin say, is resolved
// with the API server's built-in role of that name, as every cluster has
// it (unless --no-defaults).
func tokenPowers(p *check.Pass, sa *account, name string) (powers []rbac.TokenPower, named bool) {
	ctx := p.Context
	if len(ctx.List(rbac.KindRoleBinding)) == 0 && len(ctx.List(rbac.KindClusterRoleBinding)) == 0 {
		return nil, false // the usual scan of workloads alone
	}
	id := rbac.Identity{Kind: rbacv1.ServiceAccountKind, Namespace: orDefault(p.Object.Ref.Namespace), Name: name}
	user := id.User()
	var (
		b         rbac.Builder
		found     bool
		roles     []*object.Object
		aggregate bool
		builtin   bool // a binding refers to a built-in role the input lacks
	)
	for _, kind := range []string{rbac.KindClusterRoleBinding, rbac.KindRoleBinding} {
		for _, o := range ctx.List(kind) {
			if !mayConcern(o, name, user) {
				continue
			}
			var v struct {
				RoleRef  rbacv1.RoleRef   `json:"roleRef"`
				Subjects []rbacv1.Subject `json:"subjects"`
			}
			if o.Decode(object.Path{}, &v) != nil {
				continue
			}
			named = named || slices.ContainsFunc(v.Subjects, func(s rbacv1.Subject) bool {
				ns := s.Namespace
				if ns == "" && kind == rbac.KindRoleBinding {
					ns = o.Ref.Namespace // a RoleBinding's subject defaults to its namespace, as the authorizer reads it
				}
				return s.Kind == rbacv1.ServiceAccountKind && s.Name == name && orDefault(ns) == id.Namespace
			})
			b.Add(o)
			found = true
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
				aggregate = aggregate || r != nil && r.Field(object.Path{}.Key("aggregationRule")) != nil
			}
			if r != nil && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	if !found {
		return nil, false
	}
	if aggregate {
		candidates := ctx.List(rbac.KindClusterRole)
		if builtin {
			// A built-in aggregated role (admin, edit, view) gathers its
			// rules from the built-in system:aggregate-to-* roles.
			candidates = slices.Concat(slices.Collect(maps.Values(builtinClusterRoles())), candidates)
		}
		for _, r := range candidates {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	for _, r := range roles {
		b.Add(r)
	}
	if sa != nil {
		b.Add(sa.Object)
	}
	return rbac.TokenPowers(b.Build(), id), named
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

// mayConcern reports whether a binding has a subject that can be the
// ServiceAccount: one of its name, its user name, or a group its tokens
// carry. It reads the subjects' scalars from the parse tree, since every
// pod's check asks it of every binding; package rbac then decides, with
// the namespaces, which subjects really are the ServiceAccount.
func mayConcern(o *object.Object, name string, user rbac.User) bool {
	for i := 0; o.Field(subjectsPath.Index(i)) != nil; i++ {
		s := subjectsPath.Index(i)
		subject := scalar(o, s.Key("name"))
		switch scalar(o, s.Key("kind")) {
		case rbacv1.ServiceAccountKind:
			if subject == name {
				return true
			}
		case rbacv1.UserKind:
			if subject == user.Name {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(user.Groups, subject) {
				return true
			}
		}
	}
	return false
}

// scalar is the value of the scalar at p, "" when there is none.
func scalar(o *object.Object, p object.Path) string {
	if n := o.Field(p); n != nil {
		return n.Value
	}
	return ""
}

func quote(s string) string { return strconv.Quote(s) }
