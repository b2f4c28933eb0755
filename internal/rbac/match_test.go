package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func rule(verbs, groups, resources []string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func l(s ...string) []string { return s }

func res(verb, group, resource, sub, name string) Attributes {
	return Attributes{Verb: verb, ResourceRequest: true, Namespace: "ns", APIGroup: group, Resource: resource, Subresource: sub, Name: name}
}

func url(verb, path string) Attributes { return Attributes{Verb: verb, Path: path} }

// TestRuleAllows is the truth table of rule matching, one case per
// behaviour of the RBAC authorizer's matcher.
func TestRuleAllows(t *testing.T) {
	named := func(r rbacv1.PolicyRule, names ...string) rbacv1.PolicyRule { r.ResourceNames = names; return r }
	urls := func(verbs []string, u ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: u}
	}
	for _, tc := range []struct {
		name string
		rule rbacv1.PolicyRule
		req  Attributes
		want bool
	}{
		// verbs
		{"exact verb", rule(l("get"), l(""), l("pods")), res("get", "", "pods", "", ""), true},
		{"other verb", rule(l("get"), l(""), l("pods")), res("list", "", "pods", "", ""), false},
		{"verb wildcard", rule(l("*"), l(""), l("pods")), res("deletecollection", "", "pods", "", ""), true},
		{"verbs are case-sensitive", rule(l("GET"), l(""), l("pods")), res("get", "", "pods", "", ""), false},
		{"no verbs", rule(nil, l(""), l("pods")), res("get", "", "pods", "", ""), false},
		{"request verb * needs rule *", rule(l("get", "list"), l(""), l("pods")), res("*", "", "pods", "", ""), false},
		// groups
		{"core group", rule(l("get"), l(""), l("pods")), res("get", "", "pods", "", ""), true},
		{"core rule, apps request", rule(l("get"), l(""), l("deployments")), res("get", "apps", "deployments", "", ""), false},
		{"group wildcard", rule(l("get"), l("*"), l("deployments")), res("get", "apps", "deployments", "", ""), true},
		{"group wildcard covers core", rule(l("get"), l("*"), l("pods")), res("get", "", "pods", "", ""), true},
		{"no groups", rule(l("get"), nil, l("pods")), res("get", "", "pods", "", ""), false},
		{"second group", rule(l("get"), l("extensions", "apps"), l("deployments")), res("get", "apps", "deployments", "", ""), true},
		// resources
		{"resource wildcard", rule(l("get"), l(""), l("*")), res("get", "", "secrets", "", ""), true},
		{"resource wildcard covers subresources", rule(l("get"), l(""), l("*")), res("get", "", "pods", "log", ""), true},
		{"bare resource does not cover subresource", rule(l("get"), l(""), l("pods")), res("get", "", "pods", "log", ""), false},
		{"subresource exact", rule(l("get"), l(""), l("pods/log")), res("get", "", "pods", "log", ""), true},
		{"subresource rule does not cover resource", rule(l("get"), l(""), l("pods/log")), res("get", "", "pods", "", ""), false},
		{"other subresource", rule(l("get"), l(""), l("pods/log")), res("get", "", "pods", "exec", ""), false},
		{"*/subresource", rule(l("update"), l("apps"), l("*/scale")), res("update", "apps", "deployments", "scale", ""), true},
		{"*/subresource, other subresource", rule(l("update"), l("apps"), l("*/scale")), res("update", "apps", "deployments", "status", ""), false},
		{"*/subresource does not cover resource", rule(l("get"), l(""), l("*/scale")), res("get", "", "scale", "", ""), false},
		{"*/subresource, longer subresource", rule(l("get"), l(""), l("*/log")), res("get", "", "pods", "logs", ""), false},
		{"resource/* is not a wildcard", rule(l("get"), l(""), l("pods/*")), res("get", "", "pods", "log", ""), false},
		{"resource/* matches subresource named *", rule(l("get"), l(""), l("pods/*")), res("get", "", "pods", "*", ""), true},
		{"*/* matches every subresource", rule(l("get"), l(""), l("*/*")), res("get", "", "pods", "*", ""), true},
		{"resources are case-sensitive", rule(l("get"), l(""), l("Pods")), res("get", "", "pods", "", ""), false},
		// resourceNames
		{"names: named request", named(rule(l("get"), l(""), l("secrets")), "a", "b"), res("get", "", "secrets", "", "b"), true},
		{"names: other name", named(rule(l("get"), l(""), l("secrets")), "a"), res("get", "", "secrets", "", "c"), false},
		{"names: request without name (list)", named(rule(l("list"), l(""), l("secrets")), "a"), res("list", "", "secrets", "", ""), false},
		{"names: request without name (create)", named(rule(l("create"), l(""), l("secrets")), "a"), res("create", "", "secrets", "", ""), false},
		{"no names: any name", rule(l("get"), l(""), l("secrets")), res("get", "", "secrets", "", "x"), true},
		{"no names: no name", rule(l("create"), l(""), l("secrets")), res("create", "", "secrets", "", ""), true},
		{"names apply to subresources", named(rule(l("get"), l(""), l("pods/log")), "p"), res("get", "", "pods", "log", "p"), true},
		{"name * is not a wildcard", named(rule(l("get"), l(""), l("secrets")), "*"), res("get", "", "secrets", "", "x"), false},
		// a resource rule never matches a non-resource request and back
		{"resource rule, URL request", rule(l("get"), l("*"), l("*")), url("get", "/healthz"), false},
		{"URL rule, resource request", urls(l("get"), "*"), res("get", "", "pods", "", ""), false},
		// non-resource URLs
		{"url exact", urls(l("get"), "/healthz"), url("get", "/healthz"), true},
		{"url exact, other path", urls(l("get"), "/healthz"), url("get", "/healthz/etcd"), false},
		{"url exact, other verb", urls(l("get"), "/healthz"), url("post", "/healthz"), false},
		{"url prefix", urls(l("get"), "/api/*"), url("get", "/api/v1"), true},
		{"url prefix matches the bare prefix", urls(l("get"), "/api/*"), url("get", "/api/"), true},
		{"url prefix without slash", urls(l("get"), "/api/*"), url("get", "/api"), false},
		{"url prefix without separator", urls(l("get"), "/healthz*"), url("get", "/healthzzz"), true},
		{"url star", urls(l("get"), "*"), url("get", "/anything"), true},
		{"url star is a wildcard only at the end", urls(l("get"), "/a*/b"), url("get", "/ax/b"), false},
		{"url every trailing star trimmed", urls(l("get"), "/logs**"), url("get", "/logs/x"), true},
		{"url verb wildcard", urls(l("*"), "/metrics"), url("post", "/metrics"), true},
		{"url is case-sensitive", urls(l("get"), "/Healthz"), url("get", "/healthz"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RuleAllows(&tc.rule, tc.req); got != tc.want {
				t.Errorf("RuleAllows(%s, %s) = %v, want %v", RuleString(&tc.rule), tc.req, got, tc.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rule     rbacv1.PolicyRule
		verb     string
		group    string
		resource string
		want     bool
	}{
		{"names ignored", rbacv1.PolicyRule{Verbs: l("get"), APIGroups: l(""), Resources: l("secrets"), ResourceNames: l("a")}, "get", "", "secrets", true},
		{"any subresource: exact", rule(l("impersonate"), l("authentication.k8s.io"), l("userextras/scopes")), "impersonate", "authentication.k8s.io", "userextras/*", true},
		{"any subresource: */x", rule(l("impersonate"), l("authentication.k8s.io"), l("*/scopes")), "impersonate", "authentication.k8s.io", "userextras/*", true},
		{"any subresource: *", rule(l("impersonate"), l("*"), l("*")), "impersonate", "authentication.k8s.io", "userextras/*", true},
		{"any subresource: bare resource", rule(l("impersonate"), l("authentication.k8s.io"), l("userextras")), "impersonate", "authentication.k8s.io", "userextras/*", false},
		{"subresource", rule(l("get"), l(""), l("nodes/proxy")), "get", "", "nodes/proxy", true},
		{"subresource via bare resource", rule(l("get"), l(""), l("nodes")), "get", "", "nodes/proxy", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := covers(&tc.rule, tc.verb, tc.group, tc.resource); got != tc.want {
				t.Errorf("covers = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSuperRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule rbacv1.PolicyRule
		want bool
	}{
		{"cluster-admin", rule(l("*"), l("*"), l("*")), true},
		{"named", rbacv1.PolicyRule{Verbs: l("*"), APIGroups: l("*"), Resources: l("*"), ResourceNames: l("x")}, false},
		{"core only", rule(l("*"), l(""), l("*")), false},
		{"verbs listed", rule(l("get", "list"), l("*"), l("*")), false},
		{"*/*", rule(l("*"), l("*"), l("*/*")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := superRule(&tc.rule); got != tc.want {
				t.Errorf("superRule = %v, want %v", got, tc.want)
			}
		})
	}
}
