package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Names the API server gives identities.
const (
	// SystemMasters is the superuser group: the authorizer chain allows
	// its members everything before RBAC is asked.
	SystemMasters = "system:masters"
	// AllAuthenticated is the group of every authenticated identity.
	AllAuthenticated = "system:authenticated"
	// AllUnauthenticated is the group of anonymous requests.
	AllUnauthenticated = "system:unauthenticated"
	// Anonymous is the user name of anonymous requests.
	Anonymous = "system:anonymous"
	// AllServiceAccounts is the group of every ServiceAccount.
	AllServiceAccounts = "system:serviceaccounts"

	serviceAccountPrefix      = "system:serviceaccount:"
	serviceAccountGroupPrefix = "system:serviceaccounts:"
)

// User is who makes a request: a user name and groups, exactly as a
// SubjectAccessReview states them. Nothing is added: use Authenticated for
// the groups authentication would add.
type User struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

// ServiceAccountUsername is the user name of a ServiceAccount's tokens.
func ServiceAccountUsername(namespace, name string) string {
	return serviceAccountPrefix + namespace + ":" + name
}

// ServiceAccountGroup is the group of every ServiceAccount of a namespace.
func ServiceAccountGroup(namespace string) string { return serviceAccountGroupPrefix + namespace }

// ParseServiceAccountUsername splits system:serviceaccount:<ns>:<name>.
func ParseServiceAccountUsername(user string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(user, serviceAccountPrefix)
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

// Authenticated returns the user as the API server's authentication
// presents it: a ServiceAccount's user name brings system:serviceaccounts
// and system:serviceaccounts:<ns>; every user but system:anonymous is in
// system:authenticated (unless given system:unauthenticated), and
// system:anonymous is in system:unauthenticated.
// The extra groups are kept, in order, before the implicit ones.
func Authenticated(name string, groups ...string) User {
	u := User{Name: name, Groups: append([]string(nil), groups...)}
	add := func(g string) {
		for _, have := range u.Groups {
			if have == g {
				return
			}
		}
		u.Groups = append(u.Groups, g)
	}
	if ns, _, ok := ParseServiceAccountUsername(name); ok {
		add(AllServiceAccounts)
		add(ServiceAccountGroup(ns))
	}
	switch {
	case name == Anonymous:
		add(AllUnauthenticated)
	case slices.Contains(u.Groups, AllUnauthenticated):
		// The API server adds system:authenticated to no one who is in
		// system:unauthenticated already.
	default:
		add(AllAuthenticated)
	}
	return u
}

// Identity is a subject of bindings: a User, a Group or a ServiceAccount.
type Identity struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// KindNode is the kind of the escalation graph's node identity: the
// credentials on a node that a pod escaped to its host holds, which no
// binding names. Its empty name stands for any node the attacker's pod
// may be placed on.
const KindNode = "Node"

// String renders the identity as kind and name, a ServiceAccount as
// namespace/name.
func (id Identity) String() string {
	if id.Kind == KindNode && id.Name == "" {
		return "Node (any)"
	}
	if id.Kind == rbacv1.ServiceAccountKind {
		return id.Kind + " " + id.Namespace + "/" + id.Name
	}
	return id.Kind + " " + id.Name
}

// User is the request identity a member of the subject presents. A group
// stands for an unnamed member of it; a User's other groups are not known,
// so only system:authenticated is assumed.
func (id Identity) User() User {
	switch id.Kind {
	case rbacv1.ServiceAccountKind:
		return Authenticated(ServiceAccountUsername(id.Namespace, id.Name))
	case rbacv1.GroupKind:
		if id.Name == AllUnauthenticated {
			return User{Name: Anonymous, Groups: []string{AllUnauthenticated}}
		}
		// No User subject can be named so: the member is anonymous to RBAC
		// beyond its groups. A member of a namespace's ServiceAccounts is a
		// ServiceAccount, so in system:serviceaccounts too.
		groups := []string{id.Name}
		if strings.HasPrefix(id.Name, serviceAccountGroupPrefix) {
			groups = append(groups, AllServiceAccounts)
		}
		return Authenticated("\x00member of "+id.Name, groups...)
	}
	return Authenticated(id.Name)
}

// System reports whether the identity is one of the cluster's own:
// a user or group named system:*, or a ServiceAccount of kube-system.
func (id Identity) System() bool {
	if id.Kind == rbacv1.ServiceAccountKind {
		return id.Namespace == "kube-system"
	}
	return strings.HasPrefix(id.Name, "system:")
}

// subjectIdentity is the identity a binding's subject names; ok is false
// for a subject that matches no one (a ServiceAccount without namespace in
// a ClusterRoleBinding, an unknown kind).
func subjectIdentity(s rbacv1.Subject, bindingNamespace string) (Identity, bool) {
	switch s.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		return Identity{Kind: s.Kind, Name: s.Name}, true
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNamespace
		}
		if ns == "" {
			return Identity{}, false
		}
		return Identity{Kind: s.Kind, Namespace: ns, Name: s.Name}, true
	}
	return Identity{}, false
}
