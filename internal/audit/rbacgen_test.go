package audit

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestGenerateRoles(t *testing.T) {
	var r Recorder
	r.User = "dev"
	lines := []string{
		ev{id: "1", user: "dev", verb: "get", resource: "pods", ns: "a", name: "p1"}.line(),
		ev{id: "2", user: "dev", verb: "get", resource: "pods", ns: "a", name: "p2"}.line(),
		ev{id: "3", user: "dev", verb: "list", resource: "pods", ns: "a"}.line(),
		ev{id: "4", user: "dev", verb: "create", resource: "pods", sub: "exec", ns: "a", name: "p1", code: 101}.line(),
		ev{id: "5", user: "dev", verb: "create", resource: "configmaps", ns: "a", name: "c1", code: 201}.line(),
		ev{id: "6", user: "dev", verb: "update", resource: "configmaps", ns: "a", name: "c1"}.line(),
		ev{id: "7", user: "dev", verb: "delete", resource: "configmaps", ns: "a", name: "c1"}.line(),
		ev{id: "8", user: "dev", verb: "deletecollection", group: "apps", resource: "deployments", ns: "a"}.line(),
		ev{id: "9", user: "dev", verb: "list", resource: "namespaces"}.line(),
		ev{id: "10", user: "dev", verb: "get", uri: "/healthz?verbose"}.line(),
		ev{id: "11", user: "dev", verb: "get", resource: "secrets", ns: "b", name: "s", code: 403}.line(),
		ev{id: "12", user: "other", verb: "get", resource: "secrets", ns: "b", name: "s"}.line(),
		ev{id: "13", user: "dev", verb: "watch", resource: "pods", ns: "b", name: "p9"}.line(),
	}
	if _, err := ReadLog("a.log", strings.NewReader(strings.Join(lines, "")), Filter{}, &r); err != nil {
		t.Fatal(err)
	}
	rs := GenerateRoles(r.Requests(), rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "dev"}, "kubeguard-audit:dev")
	got := map[string][]rbacv1.PolicyRule{}
	for _, cr := range rs.ClusterRoles {
		got[cr.Name] = cr.Rules
	}
	for _, r := range rs.Roles {
		got[r.Namespace+"/"+r.Name] = r.Rules
	}
	want := map[string][]rbacv1.PolicyRule{
		"kubeguard-audit:dev": {
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}},
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
		},
		"a/kubeguard-audit:dev": {
			{APIGroups: []string{""}, Resources: []string{"configmaps", "pods/exec"}, Verbs: []string{"create"}},
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"delete", "update"}, ResourceNames: []string{"c1"}},
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}, ResourceNames: []string{"p1", "p2"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"deletecollection"}},
		},
		"b/kubeguard-audit:dev": {
			{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"watch"}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if len(rs.RoleBindings) != 2 || len(rs.ClusterRoleBindings) != 1 || rs.RoleBindings[0].Subjects[0].Name != "dev" || rs.RoleBindings[0].RoleRef.Kind != "Role" {
		t.Errorf("bindings: %+v %+v", rs.RoleBindings, rs.ClusterRoleBindings)
	}
	for _, role := range append(rs.Roles, rbacv1.Role{Rules: rs.ClusterRoles[0].Rules}) {
		for _, rule := range role.Rules {
			for _, v := range rule.Verbs {
				if len(rule.ResourceNames) > 0 && !NamedVerb(v) {
					t.Errorf("resourceNames on %s: %+v", v, rule)
				}
			}
		}
	}
}

// TestRecorderUsersBounded: the other users a Recorder keeps, for naming
// the closest, are bounded whatever the log holds.
func TestRecorderUsersBounded(t *testing.T) {
	r := Recorder{User: "alice"}
	for i := range 5000 {
		e := Event{AuditID: "x", Stage: StageResponseComplete, Verb: "get", User: UserInfo{Username: fmt.Sprintf("user-%d", i)}}
		r.Handle(&e)
	}
	if n := len(r.Users()); n != maxUsers || r.Seen() != 0 {
		t.Errorf("%d users kept (want %d), alice seen %d times", n, maxUsers, r.Seen())
	}
}
