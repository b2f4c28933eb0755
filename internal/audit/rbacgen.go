package audit

import (
	"cmp"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Recorder collects the distinct requests one identity made in audit logs:
// the input of role generation. Its memory grows with the distinct
// requests, not with the events.
type Recorder struct {
	// User is the user name whose requests are recorded.
	User string
	// IncludeDenied records requests authorization refused too; by
	// default only allowed ones are, so that the roles grant no more than
	// the identity had.
	IncludeDenied bool

	reqs   map[reqKey]bool
	groups []string
	// seen counts the identity's events, refused ones included; users
	// are the other user names seen, for saying which was meant when
	// seen is 0 (at most maxUsers of them).
	seen  int
	users map[string]bool
}

// maxUsers bounds the other user names a Recorder keeps.
const maxUsers = 1024

// reqKey is a Request without its identity: comparable.
type reqKey struct{ verb, group, resource, sub, ns, name, path string }

// Handle records e when it is a request of r.User.
func (r *Recorder) Handle(e *Event) {
	if e.Stage != StageResponseComplete && e.Stage != StagePanic {
		return
	}
	id := e.Identity()
	if id.Username != r.User || e.Verb == "" {
		if r.users == nil {
			r.users = map[string]bool{}
		}
		if len(r.users) < maxUsers && id.Username != "" && !r.users[id.Username] {
			r.users[strings.Clone(id.Username)] = true // the event's strings are reused
		}
		return
	}
	r.seen++
	// An allowed request can still fail (404, 409): it counts. Refused
	// ones are what authorization said no to.
	if !r.IncludeDenied && (e.Annotations.Decision == "forbid" || e.Code() == 401 || (e.Code() == 403 && e.Annotations.Decision != "allow")) {
		return
	}
	if r.reqs == nil {
		r.reqs = map[reqKey]bool{}
	}
	for _, g := range id.Groups {
		if !slices.Contains(r.groups, g) && len(r.groups) < 64 {
			r.groups = append(r.groups, g)
		}
	}
	var q reqKey
	if e.Object != nil && e.Object.Resource != "" {
		q = reqKey{verb: e.Verb, group: e.Object.APIGroup, resource: e.Object.Resource, sub: e.Object.Subresource, ns: e.Object.Namespace, name: e.Object.Name}
	} else {
		path, _, _ := strings.Cut(e.URI, "?")
		q = reqKey{verb: e.Verb, path: path}
	}
	r.reqs[q] = true
}

// Seen is the number of the identity's requests in the logs, refused ones
// included.
func (r *Recorder) Seen() int { return r.seen }

// Users are other user names the logs hold (up to 1024 of them), sorted.
func (r *Recorder) Users() []string {
	out := make([]string, 0, len(r.users))
	for u := range r.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Groups are the groups the identity's requests carried.
func (r *Recorder) Groups() []string { return slices.Clone(r.groups) }

// Requests returns the distinct requests recorded, sorted.
func (r *Recorder) Requests() []Request {
	out := make([]Request, 0, len(r.reqs))
	for q := range r.reqs {
		out = append(out, Request{User: r.User, Verb: q.verb, APIGroup: q.group, Resource: q.resource, Subresource: q.sub, Namespace: q.ns, Name: q.name, Path: q.path})
	}
	slices.SortFunc(out, compareRequests)
	return out
}

func compareRequests(a, b Request) int {
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.APIGroup, b.APIGroup), strings.Compare(a.Resource, b.Resource),
		strings.Compare(a.Subresource, b.Subresource), strings.Compare(a.Verb, b.Verb), strings.Compare(a.Name, b.Name), strings.Compare(a.Path, b.Path))
}

// NamedVerb reports whether RBAC can restrict a verb to resourceNames:
// never create, list, watch or deletecollection, whose requests may carry
// no name.
func NamedVerb(verb string) bool {
	switch verb {
	case "create", "list", "watch", "deletecollection":
		return false
	}
	return true
}

// Roles are the least-privilege RBAC objects for a set of requests.
type Roles struct {
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	Roles               []rbacv1.Role
	RoleBindings        []rbacv1.RoleBinding
}

// Objects returns the roles and bindings in the order to apply them.
func (rs *Roles) Objects() []any {
	var out []any
	for i := range rs.ClusterRoles {
		out = append(out, &rs.ClusterRoles[i])
	}
	for i := range rs.ClusterRoleBindings {
		out = append(out, &rs.ClusterRoleBindings[i])
	}
	for i := range rs.Roles {
		out = append(out, &rs.Roles[i])
	}
	for i := range rs.RoleBindings {
		out = append(out, &rs.RoleBindings[i])
	}
	return out
}

// GenerateRoles returns the Roles, ClusterRoles and bindings that allow
// exactly reqs to subject: a Role and RoleBinding in each namespace a
// request was in, a ClusterRole and ClusterRoleBinding for cluster-scoped
// requests, requests across all namespaces and non-resource URLs.
// Subresources are kept; resourceNames restrict a verb when every request
// with it named an object and the verb allows names (NamedVerb). name
// names the objects.
func GenerateRoles(reqs []Request, subject rbacv1.Subject, name string) Roles {
	byNS := map[string][]Request{}
	for _, q := range reqs {
		ns := q.Namespace
		if !q.IsResource() {
			ns = ""
		}
		byNS[ns] = append(byNS[ns], q)
	}
	var out Roles
	nss := make([]string, 0, len(byNS))
	for ns := range byNS {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	for _, ns := range nss {
		rules := rulesFor(byNS[ns])
		if ns == "" {
			out.ClusterRoles = append(out.ClusterRoles, rbacv1.ClusterRole{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
				ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules})
			out.ClusterRoleBindings = append(out.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
				Subjects:   []rbacv1.Subject{subject}})
			continue
		}
		out.Roles = append(out.Roles, rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules})
		out.RoleBindings = append(out.RoleBindings, rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{subject}})
	}
	return out
}

// rulesFor builds the rules of one role: per group and resource, the verbs
// used without a name (or with a verb that takes no names) in one rule,
// and the named ones with their names; then rules that differ only in
// their resources are merged.
func rulesFor(reqs []Request) []rbacv1.PolicyRule {
	type gr struct{ group, resource string }
	type verbUse struct {
		names   []string
		unnamed bool
	}
	uses := map[gr]map[string]*verbUse{}
	paths := map[string][]string{} // verb -> paths
	for _, q := range reqs {
		if !q.IsResource() {
			if !slices.Contains(paths[q.Verb], q.Path) {
				paths[q.Verb] = append(paths[q.Verb], q.Path)
			}
			continue
		}
		res := q.Resource
		if q.Subresource != "" {
			res += "/" + q.Subresource
		}
		k := gr{q.APIGroup, res}
		if uses[k] == nil {
			uses[k] = map[string]*verbUse{}
		}
		u := uses[k][q.Verb]
		if u == nil {
			u = &verbUse{}
			uses[k][q.Verb] = u
		}
		if q.Name == "" || !NamedVerb(q.Verb) {
			u.unnamed = true
		} else if !slices.Contains(u.names, q.Name) {
			u.names = append(u.names, q.Name)
		}
	}
	type ruleKey struct{ group, verbs, names string }
	merged := map[ruleKey]*rbacv1.PolicyRule{}
	var order []ruleKey
	addRule := func(group, resource string, verbs, names []string) {
		slices.Sort(verbs)
		slices.Sort(names)
		k := ruleKey{group, strings.Join(verbs, ","), strings.Join(names, ",")}
		r := merged[k]
		if r == nil {
			r = &rbacv1.PolicyRule{APIGroups: []string{group}, Verbs: verbs, ResourceNames: names}
			merged[k] = r
			order = append(order, k)
		}
		r.Resources = append(r.Resources, resource)
	}
	keys := make([]gr, 0, len(uses))
	for k := range uses {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b gr) int {
		return cmp.Or(strings.Compare(a.group, b.group), strings.Compare(a.resource, b.resource))
	})
	for _, k := range keys {
		var unnamed []string
		byNames := map[string][]string{} // joined names -> verbs
		var nameKeys []string
		verbs := make([]string, 0, len(uses[k]))
		for v := range uses[k] {
			verbs = append(verbs, v)
		}
		slices.Sort(verbs)
		for _, v := range verbs {
			u := uses[k][v]
			if u.unnamed {
				// A request without a name needs the verb on every name.
				unnamed = append(unnamed, v)
				continue
			}
			slices.Sort(u.names)
			nk := strings.Join(u.names, "\x00")
			if _, ok := byNames[nk]; !ok {
				nameKeys = append(nameKeys, nk)
			}
			byNames[nk] = append(byNames[nk], v)
		}
		if len(unnamed) > 0 {
			addRule(k.group, k.resource, unnamed, nil)
		}
		for _, nk := range nameKeys {
			addRule(k.group, k.resource, byNames[nk], strings.Split(nk, "\x00"))
		}
	}
	var rules []rbacv1.PolicyRule
	for _, k := range order {
		r := merged[k]
		slices.Sort(r.Resources)
		rules = append(rules, *r)
	}
	pverbs := make([]string, 0, len(paths))
	for v := range paths {
		pverbs = append(pverbs, v)
	}
	slices.Sort(pverbs)
	for _, v := range pverbs {
		ps := paths[v]
		slices.Sort(ps)
		rules = append(rules, rbacv1.PolicyRule{Verbs: []string{v}, NonResourceURLs: ps})
	}
	return rules
}
