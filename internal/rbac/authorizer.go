package rbac

import (
	"fmt"
	"slices"
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Grant is one rule of one role, reached through one subject of one
// binding: the path by which a permission is held.
type Grant struct {
	Binding *Binding
	// Subject is the index of the binding's subject that applies.
	Subject int
	Role    *Role
	// Rule is the index of the rule in Role.Rules.
	Rule int
}

// PolicyRule is the granting rule.
func (g Grant) PolicyRule() *rbacv1.PolicyRule { return &g.Role.Rules[g.Rule] }

// Source is where the granting rule is written: in the role, or in the
// role it was aggregated from.
func (g Grant) Source() RuleSource { return g.Role.Sources[g.Rule] }

// SubjectIdentity is the identity of the applying subject.
func (g Grant) SubjectIdentity() Identity {
	id, _ := g.Binding.Identity(g.Subject)
	return id
}

// String renders the path: binding, role, rule (and the role the rule was
// aggregated from).
func (g Grant) String() string { return g.Binding.Ref() + g.roleRule() }

// roleRule is the part of String after the binding, the same for every
// binding to the role.
func (g Grant) roleRule() string {
	s := " → " + g.Role.Ref() + " rules[" + strconv.Itoa(g.Rule) + "]"
	if src := g.Source(); src.Role != g.Role {
		s += " (aggregated from " + src.Role.Ref() + " rules[" + strconv.Itoa(src.Index) + "])"
	}
	return s
}

// Reason is the RBAC authorizer's own wording of the grant, as a
// SubjectAccessReview's status.reason states it.
func (g Grant) Reason() string {
	b := g.Binding
	s := b.Subjects[g.Subject]
	subject := fmt.Sprintf("%s %q", s.Kind, s.Name)
	if s.Kind == rbacv1.ServiceAccountKind {
		ns := s.Namespace
		if ns == "" {
			ns = b.Namespace
		}
		subject = fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
	}
	name := b.Name
	if !b.Cluster() {
		name += "/" + b.Namespace
	}
	return fmt.Sprintf("RBAC: allowed by %s %q of %s %q to %s", b.Kind, name, b.RoleRef.Kind, b.RoleRef.Name, subject)
}

// Decision is the answer to one request with its explanation.
type Decision struct {
	Allowed bool
	// Superuser is set when the user is in system:masters, which the
	// API server allows before asking RBAC.
	Superuser bool
	// Grants are every rule that allows the request, in the authorizer's
	// visiting order; the first is the one a SubjectAccessReview names.
	Grants []Grant
	// Unresolved are bindings that apply to the user but refer to roles
	// the policy does not hold: their rules could not be checked.
	Unresolved []*Binding
}

// Reason is the SubjectAccessReview-style reason of the decision.
func (d Decision) Reason() string {
	switch {
	case d.Superuser:
		return "allowed: member of " + SystemMasters
	case len(d.Grants) > 0:
		return d.Grants[0].Reason()
	}
	return ""
}

// Authorizer answers requests against a policy as the API server's
// authorizer chain does with the RBAC mode: the system:masters group is
// allowed everything, then RBAC rules decide. The Node authorizer, webhook
// authorizers and the API server's other modes are not modelled.
type Authorizer struct {
	p *Policy
}

// NewAuthorizer returns an authorizer over p.
func NewAuthorizer(p *Policy) *Authorizer { return &Authorizer{p: p} }

// Allowed reports whether the user with exactly these groups (nothing is
// added: see Authenticated) may make the request, and why, as a
// SubjectAccessReview would answer.
func (az *Authorizer) Allowed(user string, groups []string, a Attributes) (bool, string) {
	d := az.decide(User{Name: user, Groups: groups}, a, false)
	return d.Allowed, d.Reason()
}

// Decide answers the request and gathers every grant of it.
func (az *Authorizer) Decide(u User, a Attributes) Decision { return az.decide(u, a, true) }

func (az *Authorizer) decide(u User, a Attributes, all bool) Decision {
	var d Decision
	if slices.Contains(u.Groups, SystemMasters) {
		d.Allowed, d.Superuser = true, true
		if !all {
			return d
		}
	}
	for _, c := range az.p.candidates(u, func(b *Binding) bool { return b.Cluster() || (a.Namespace != "" && b.Namespace == a.Namespace) }) {
		r := c.b.role
		if r == nil {
			d.Unresolved = append(d.Unresolved, c.b)
			continue
		}
		for i := range r.Rules {
			if RuleAllows(&r.Rules[i], a) {
				d.Allowed = true
				d.Grants = append(d.Grants, Grant{Binding: c.b, Subject: c.i, Role: r, Rule: i})
				if !all {
					return d
				}
				break // one rule per binding is enough to explain it
			}
		}
	}
	return d
}

// SubjectGrant is a subject that holds a permission, and how.
type SubjectGrant struct {
	Subject Identity
	// Namespace is where the grant applies; empty for cluster-wide.
	Namespace string
	Grant     Grant
}

// WhoCan lists every subject of a binding that allows the request, the
// way the authorizer would find them: ClusterRoleBindings, then the
// RoleBindings of the request's namespace. With anyNamespace, RoleBindings
// of every namespace are searched, each judged for the request made in its
// own namespace (never for cluster-scoped resources). Members of
// system:masters can do everything and are not listed. Subjects that match
// no one (a ServiceAccount without namespace in a ClusterRoleBinding) are
// left out.
func (az *Authorizer) WhoCan(a Attributes, anyNamespace bool) []SubjectGrant {
	var out []SubjectGrant
	type key struct {
		r  *Role
		ns string
	}
	memo := map[key]int{} // index of the first allowing rule, -1 for none
	ruleFor := func(r *Role, req Attributes) int {
		k := key{r, req.Namespace}
		if v, ok := memo[k]; ok {
			return v
		}
		v := -1
		for i := range r.Rules {
			if RuleAllows(&r.Rules[i], req) {
				v = i
				break
			}
		}
		memo[k] = v
		return v
	}
	isNamespace := a.ResourceRequest && a.APIGroup == "" && a.Resource == "namespaces"
	for _, b := range az.p.Bindings {
		if b.role == nil {
			continue
		}
		req := a
		switch {
		case b.Cluster():
		case anyNamespace && isNamespace:
			// A namespace's own object is in itself: a RoleBinding reaches
			// only the namespace it is in.
			if a.Name != b.Namespace {
				continue
			}
		case anyNamespace:
			if !a.ResourceRequest || !az.namespacedResource(a) {
				continue
			}
			req.Namespace = b.Namespace
		case a.Namespace != "" && b.Namespace == a.Namespace:
		default:
			continue
		}
		i := ruleFor(b.role, req)
		if i < 0 {
			continue
		}
		for j := range b.Subjects {
			id, ok := b.Identity(j)
			if !ok {
				continue
			}
			out = append(out, SubjectGrant{Subject: id, Namespace: b.Namespace, Grant: Grant{Binding: b, Subject: j, Role: b.role, Rule: i}})
		}
	}
	return out
}

// namespacedResource reports whether a request is for a namespaced
// resource, or one of unknown scope, which RoleBindings may grant.
func (az *Authorizer) namespacedResource(a Attributes) bool {
	namespaced, known := az.p.Namespaced(a.APIGroup, a.Resource)
	return namespaced || !known
}
