package rbac

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const bindingsYAML = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-a}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-b}
rules:
- {apiGroups: [""], resources: [pods], verbs: [delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-and-secret-reader}
rules:
- {apiGroups: [""], resources: [nodes, secrets], verbs: [get]}
- {nonResourceURLs: ["/healthz", "/logs/*"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-secrets, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-and-secret-reader}
subjects:
- {kind: User, name: bob}
- {kind: ServiceAccount, name: builder}
- {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: carol-everywhere}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-and-secret-reader}
subjects:
- {kind: Group, name: readers}
- {kind: ServiceAccount, name: no-namespace}
- {kind: ServiceAccount, name: monitor, namespace: ops}
- {kind: User, name: "system:serviceaccount:ops:agent"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: to-a-role}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: User, name: dave}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: to-missing, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: does-not-exist}
subjects:
- {kind: User, name: erin}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: authenticated-healthz}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: healthz}
subjects:
- {kind: Group, name: "system:authenticated"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: healthz}
rules:
- {nonResourceURLs: ["/readyz"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ns-sas, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: Group, name: "system:serviceaccounts:team-b"}
- {kind: Robot, name: r2d2}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: anonymous, namespace: public}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-and-secret-reader}
subjects:
- {kind: Group, name: "system:unauthenticated"}
`

// TestAllowed is the truth table of bindings and subjects.
func TestAllowed(t *testing.T) {
	p := build(t, bindingsYAML)
	az := NewAuthorizer(p)
	sa := func(ns, name string) User { return Authenticated(ServiceAccountUsername(ns, name)) }
	for _, tc := range []struct {
		name string
		user User
		req  Attributes
		want bool
	}{
		// RoleBinding to a Role
		{"role binding, own namespace", Authenticated("alice"), res("get", "", "pods", "", "p"), false}, // res() uses namespace ns
		{"role binding in team-a", Authenticated("alice"), inNS(res("get", "", "pods", "", "p"), "team-a"), true},
		{"role binding, other namespace", Authenticated("alice"), inNS(res("get", "", "pods", "", "p"), "team-b"), false},
		{"role binding, all namespaces", Authenticated("alice"), inNS(res("list", "", "pods", "", ""), ""), false},
		{"role binding uses the role of its own namespace", Authenticated("alice"), inNS(res("delete", "", "pods", "", "p"), "team-a"), false},
		// RoleBinding to a ClusterRole: namespaced grant
		{"role binding to cluster role, its namespace", Authenticated("bob"), inNS(res("get", "", "secrets", "", "s"), "team-a"), true},
		{"role binding to cluster role, other namespace", Authenticated("bob"), inNS(res("get", "", "secrets", "", "s"), "team-b"), false},
		{"role binding never grants cluster-scoped requests", Authenticated("bob"), inNS(res("get", "", "nodes", "", "n1"), ""), false},
		{"role binding never grants non-resource URLs", Authenticated("bob"), url("get", "/healthz"), false},
		// ClusterRoleBinding
		{"cluster binding, any namespace", User{Name: "x", Groups: []string{"readers"}}, inNS(res("get", "", "secrets", "", "s"), "anywhere"), true},
		{"cluster binding, cluster-scoped", User{Name: "x", Groups: []string{"readers"}}, inNS(res("get", "", "nodes", "", "n1"), ""), true},
		{"cluster binding, URL exact", User{Name: "x", Groups: []string{"readers"}}, url("get", "/healthz"), true},
		{"cluster binding, URL prefix", User{Name: "x", Groups: []string{"readers"}}, url("get", "/logs/kubelet.log"), true},
		{"cluster binding, URL other", User{Name: "x", Groups: []string{"readers"}}, url("get", "/metrics"), false},
		{"cluster binding to a Role grants nothing", Authenticated("dave"), inNS(res("get", "", "pods", "", "p"), "team-a"), false},
		// subjects
		{"user names are exact", Authenticated("Alice"), inNS(res("get", "", "pods", "", "p"), "team-a"), false},
		{"group is not a user", User{Name: "readers"}, inNS(res("get", "", "secrets", "", "s"), "x"), false},
		{"user is not a group", User{Name: "x", Groups: []string{"alice"}}, inNS(res("get", "", "pods", "", "p"), "team-a"), false},
		{"SA with namespace in role binding", sa("ci", "deployer"), inNS(res("get", "", "secrets", "", "s"), "team-a"), true},
		{"SA without namespace defaults to the role binding's", sa("team-a", "builder"), inNS(res("get", "", "secrets", "", "s"), "team-a"), true},
		{"SA without namespace is not another namespace's", sa("default", "builder"), inNS(res("get", "", "secrets", "", "s"), "team-a"), false},
		{"SA without namespace in a cluster binding matches no one", sa("default", "no-namespace"), inNS(res("get", "", "secrets", "", "s"), "x"), false},
		{"SA without namespace in a cluster binding, empty namespace", User{Name: "system:serviceaccount::no-namespace"}, inNS(res("get", "", "secrets", "", "s"), "x"), false},
		{"SA in cluster binding", sa("ops", "monitor"), inNS(res("get", "", "nodes", "", "n"), ""), true},
		{"SA matched by user name alone", User{Name: "system:serviceaccount:ops:monitor"}, inNS(res("get", "", "nodes", "", "n"), ""), true},
		{"User subject named like an SA matches the SA", sa("ops", "agent"), inNS(res("get", "", "nodes", "", "n"), ""), true},
		{"unknown subject kind matches no one", Authenticated("r2d2"), inNS(res("delete", "", "pods", "", "p"), "team-b"), false},
		// implicit groups
		{"system:authenticated via authentication", Authenticated("anyone"), url("get", "/readyz"), true},
		{"system:authenticated not added by Allowed", User{Name: "anyone"}, url("get", "/readyz"), false},
		{"anonymous is not authenticated", Authenticated(Anonymous), url("get", "/readyz"), false},
		{"anonymous is unauthenticated", Authenticated(Anonymous), inNS(res("get", "", "secrets", "", "s"), "public"), true},
		{"SA gets system:serviceaccounts:<ns>", sa("team-b", "whoever"), inNS(res("delete", "", "pods", "", "p"), "team-b"), true},
		{"SA group of another namespace", sa("team-a", "whoever"), inNS(res("delete", "", "pods", "", "p"), "team-b"), false},
		// system:masters
		{"system:masters without any binding", User{Name: "root", Groups: []string{SystemMasters}}, inNS(res("delete", "", "nodes", "", "n"), ""), true},
		{"system:masters, URL", User{Name: "root", Groups: []string{SystemMasters}}, url("post", "/anything"), true},
		// missing role
		{"missing role grants nothing", Authenticated("erin"), inNS(res("get", "", "pods", "", "p"), "team-a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := az.Allowed(tc.user.Name, tc.user.Groups, tc.req)
			if got != tc.want {
				t.Errorf("Allowed(%q, %q, %s) = %v (%s), want %v", tc.user.Name, tc.user.Groups, tc.req, got, reason, tc.want)
			}
			if got != (reason != "") {
				t.Errorf("reason %q for allowed=%v", reason, got)
			}
		})
	}
}

func inNS(a Attributes, ns string) Attributes { a.Namespace = ns; return a }

func TestDecideExplains(t *testing.T) {
	p := build(t, bindingsYAML)
	az := NewAuthorizer(p)
	d := az.Decide(Authenticated(ServiceAccountUsername("team-a", "builder")), inNS(res("get", "", "secrets", "", "s"), "team-a"))
	if !d.Allowed || len(d.Grants) != 1 {
		t.Fatalf("got %+v, want one grant", d)
	}
	g := d.Grants[0]
	if diff := cmp.Diff(`RBAC: allowed by RoleBinding "bob-secrets/team-a" of ClusterRole "node-and-secret-reader" to ServiceAccount "builder/team-a"`, g.Reason()); diff != "" {
		t.Errorf("reason (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff("RoleBinding/team-a/bob-secrets → ClusterRole/node-and-secret-reader rules[0]", g.String()); diff != "" {
		t.Errorf("grant (-want +got):\n%s", diff)
	}
	loc, ok := g.Source().Location()
	if !ok || loc.Line != 18 {
		t.Errorf("rule location %v, want test.yaml:18", loc)
	}

	d = az.Decide(Authenticated("erin"), inNS(res("get", "", "pods", "", "p"), "team-a"))
	if d.Allowed || len(d.Unresolved) != 1 || d.Unresolved[0].Name != "to-missing" {
		t.Errorf("got %+v, want denied with binding to-missing unresolved", d)
	}
	d = az.Decide(User{Name: "root", Groups: []string{SystemMasters}}, url("get", "/x"))
	if !d.Allowed || !d.Superuser || d.Reason() == "" {
		t.Errorf("system:masters: %+v", d)
	}
}

func TestAuthenticated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		user   string
		groups []string
		want   []string
	}{
		{"user", "alice", nil, []string{AllAuthenticated}},
		{"user with groups", "alice", []string{"devs", AllAuthenticated}, []string{"devs", AllAuthenticated}},
		{"anonymous", Anonymous, nil, []string{AllUnauthenticated}},
		{"service account", "system:serviceaccount:ns:sa", nil, []string{AllServiceAccounts, "system:serviceaccounts:ns", AllAuthenticated}},
		{"not a service account", "system:serviceaccount:ns", nil, []string{AllAuthenticated}},
		{"given system:unauthenticated", "alice", []string{AllUnauthenticated}, []string{AllUnauthenticated}},
		{"anonymous with groups", Anonymous, []string{"devs"}, []string{"devs", AllUnauthenticated}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Authenticated(tc.user, tc.groups...).Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	p := build(t, bindingsYAML)
	var got []string
	for _, e := range p.Problems {
		got = append(got, e.Error())
	}
	want := []string{
		`test.yaml:43:3: ClusterRoleBinding/carol-everywhere: ServiceAccount subject "no-namespace" has no namespace; the API server rejects it and it matches no one`,
		`test.yaml:50:1: ClusterRoleBinding/to-a-role: a ClusterRoleBinding can only refer to a ClusterRole; it grants nothing`,
		`test.yaml:80:3: RoleBinding/team-b/ns-sas: subject kind "Robot" is not User, Group or ServiceAccount; it matches no one`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestRoleProblems(t *testing.T) {
	p := build(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: urls, namespace: a}
rules:
- {nonResourceURLs: [/healthz], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mixed}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [""], resources: [pods], nonResourceURLs: [/healthz], verbs: [get]}
- {nonResourceURLs: [/healthz], verbs: [get]}
`)
	var got []string
	for _, e := range p.Problems {
		got = append(got, e.Error())
	}
	want := []string{
		"test.yaml:5:4: Role/a/urls rules[0]: a Role cannot grant non-resource URLs; the API server rejects it",
		"test.yaml:12:40: ClusterRole/mixed rules[1]: a rule cannot grant both resources and non-resource URLs; the API server rejects it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestWhoCan(t *testing.T) {
	p := build(t, bindingsYAML)
	az := NewAuthorizer(p)
	type row struct{ Subject, Namespace, Binding string }
	rows := func(gs []SubjectGrant) []row {
		var out []row
		for _, g := range gs {
			out = append(out, row{g.Subject.String(), g.Namespace, g.Grant.Binding.Name})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  Attributes
		any  bool
		want []row
	}{
		{"secrets in team-a", inNS(res("get", "", "secrets", "", "s"), "team-a"), false, []row{
			{"Group readers", "", "carol-everywhere"},
			{"ServiceAccount ops/monitor", "", "carol-everywhere"},
			{"User system:serviceaccount:ops:agent", "", "carol-everywhere"},
			{"User bob", "team-a", "bob-secrets"},
			{"ServiceAccount team-a/builder", "team-a", "bob-secrets"},
			{"ServiceAccount ci/deployer", "team-a", "bob-secrets"},
		}},
		{"secrets anywhere", inNS(res("get", "", "secrets", "", "s"), ""), true, []row{
			{"Group readers", "", "carol-everywhere"},
			{"ServiceAccount ops/monitor", "", "carol-everywhere"},
			{"User system:serviceaccount:ops:agent", "", "carol-everywhere"},
			{"Group system:unauthenticated", "public", "anonymous"},
			{"User bob", "team-a", "bob-secrets"},
			{"ServiceAccount team-a/builder", "team-a", "bob-secrets"},
			{"ServiceAccount ci/deployer", "team-a", "bob-secrets"},
		}},
		{"nodes anywhere: cluster-scoped, role bindings never", inNS(res("get", "", "nodes", "", "n"), ""), true, []row{
			{"Group readers", "", "carol-everywhere"},
			{"ServiceAccount ops/monitor", "", "carol-everywhere"},
			{"User system:serviceaccount:ops:agent", "", "carol-everywhere"},
		}},
		{"delete pods in team-b", inNS(res("delete", "", "pods", "", "p"), "team-b"), false, []row{
			{"Group system:serviceaccounts:team-b", "team-b", "ns-sas"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rows(az.WhoCan(tc.req, tc.any))); diff != "" {
				t.Errorf("who-can (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	p := build(t, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Cluster, names: {plural: widgets, kind: Widget}}
`)
	for _, tc := range []struct {
		verb, resource, name, ns string
		want                     Attributes
	}{
		{"get", "pods", "p", "a", Attributes{Verb: "get", ResourceRequest: true, Namespace: "a", Resource: "pods", Name: "p"}},
		{"list", "deployments", "", "a", Attributes{Verb: "list", ResourceRequest: true, Namespace: "a", APIGroup: "apps", Resource: "deployments"}},
		{"update", "deployments.apps/scale", "d", "a", Attributes{Verb: "update", ResourceRequest: true, Namespace: "a", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Name: "d"}},
		{"get", "nodes/proxy", "n", "a", Attributes{Verb: "get", ResourceRequest: true, Resource: "nodes", Subresource: "proxy", Name: "n"}},
		{"patch", "namespaces", "team-a", "default", Attributes{Verb: "patch", ResourceRequest: true, Namespace: "team-a", Resource: "namespaces", Name: "team-a"}},
		{"get", "widgets", "w", "a", Attributes{Verb: "get", ResourceRequest: true, APIGroup: "example.com", Resource: "widgets", Name: "w"}},
		{"get", "gadgets.example.org", "", "a", Attributes{Verb: "get", ResourceRequest: true, Namespace: "a", APIGroup: "example.org", Resource: "gadgets"}},
		{"get", "/healthz", "", "a", Attributes{Verb: "get", Path: "/healthz"}},
	} {
		t.Run(tc.verb+" "+tc.resource, func(t *testing.T) {
			got, err := p.Request(tc.verb, tc.resource, tc.name, tc.ns)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
