package rbac

import (
	"errors"
	"testing"
)

// TestDefaults holds the embedded built-in roles to what an API server
// creates, once tools/rbacdefaults has generated them; until then it checks
// that loading them fails with the error that says so.
func TestDefaults(t *testing.T) {
	objs, err := Defaults()
	if errors.Is(err, ErrNoDefaults) {
		t.Logf("built-in roles not generated yet: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	b.AddDefaults(objs)
	p := b.Build()
	if len(p.Problems) > 0 || len(p.Warnings) > 0 {
		t.Fatalf("problems %v, warnings %v", p.Problems, p.Warnings)
	}
	az := NewAuthorizer(p)
	for _, tc := range []struct {
		name string
		user User
		req  Attributes
		want bool
	}{
		// cluster-admin is bound to system:masters by a built-in binding.
		{"cluster-admin role", User{Name: "x", Groups: []string{"system:masters"}}, Attributes{Verb: "delete", ResourceRequest: true, Resource: "nodes", Name: "n"}, true},
		// Discovery and public info for everyone authenticated.
		{"discovery", Authenticated("anyone"), Attributes{Verb: "get", Path: "/apis"}, true},
		{"public info for anonymous", Authenticated(Anonymous), Attributes{Verb: "get", Path: "/version"}, true},
		{"nothing else for anonymous", Authenticated(Anonymous), Attributes{Verb: "get", ResourceRequest: true, Namespace: "default", Resource: "pods"}, false},
		{"self subject access review", Authenticated("anyone"), Attributes{Verb: "create", ResourceRequest: true, APIGroup: "authorization.k8s.io", Resource: "selfsubjectaccessreviews"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, reason := az.Allowed(tc.user.Name, tc.user.Groups, tc.req); got != tc.want {
				t.Errorf("Allowed = %v (%s), want %v", got, reason, tc.want)
			}
		})
	}
	// admin, edit and view are aggregated: their rules come from the
	// system:aggregate-to-* roles, edit through admin as well.
	for _, name := range []string{"admin", "edit", "view"} {
		r := p.ClusterRoles[name]
		if r == nil || !r.Aggregated() || len(r.Rules) == 0 {
			t.Errorf("ClusterRole %s: want aggregated rules, got %+v", name, r)
		}
	}
	if len(p.ClusterRoles["admin"].Rules) <= len(p.ClusterRoles["edit"].Rules) {
		t.Error("admin does not aggregate edit's rules")
	}
	// The built-ins are used, never reported.
	if fs := Risks(p); len(fs) > 0 {
		t.Errorf("built-ins reported: %v", fs[0])
	}
	if cs := Paths(p); len(cs) > 0 {
		t.Errorf("built-in subjects in paths: %v", cs[0].Subject)
	}
}
