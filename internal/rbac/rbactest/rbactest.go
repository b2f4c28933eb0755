// Package rbactest generates RBAC policies and requests, deterministically
// from a seed, for benchmarks and for differential tests that hold the
// analysis against a real API server: create the objects there, build a
// policy from the same objects, and compare answers for the requests.
package rbactest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/kubeguard/kubeguard/internal/rbac"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Options size a generated cluster.
type Options struct {
	Seed uint64
	// Namespaces holding Roles, RoleBindings, ServiceAccounts and
	// workloads.
	Namespaces int
	// Roles and ClusterRoles together; one in five is a ClusterRole, and
	// one ClusterRole in twenty aggregates others.
	Roles int
	// Bindings: RoleBindings and ClusterRoleBindings, one in five a
	// ClusterRoleBinding.
	Bindings int
	// Workloads are Deployments running as the namespaces'
	// ServiceAccounts.
	Workloads int
	// Users, Groups and ServiceAccounts per namespace that subjects are
	// drawn from.
	Users, Groups, ServiceAccounts int
	// Aggregated adds that many more aggregated ClusterRoles, each bound
	// once, whose selectors use every form: matchLabels, In, NotIn,
	// Exists, DoesNotExist, the empty selector, several selectors, nested
	// aggregation, selectors that select nothing, and manifest rules that
	// aggregation replaces or (when it yields none) leaves.
	Aggregated int
}

// Large is the benchmark's cluster: 10,000 roles and 10,000 bindings.
var Large = Options{Seed: 1, Namespaces: 200, Roles: 10000, Bindings: 10000, Workloads: 2000, Users: 1000, Groups: 100, ServiceAccounts: 10}

// Small is a cluster a real API server holds in seconds, for differential
// tests.
var Small = Options{Seed: 1, Namespaces: 4, Roles: 200, Bindings: 300, Workloads: 0, Users: 10, Groups: 5, ServiceAccounts: 3, Aggregated: 30}

// Cluster is a generated set of objects.
type Cluster struct {
	Input           rbac.Input
	ServiceAccounts []corev1.ServiceAccount
	Workloads       []appsv1.Deployment
	// Users, Groups and ServiceAccountUsers are the identities subjects
	// name, for drawing requests.
	Users, Groups []string
	Namespaces    []string
}

// The pools rules are drawn from: verbs, and resources by group, with
// subresources, so that every matching path of the authorizer is used.
var (
	verbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate", "approve"}
	resources = map[string][]string{
		"":                             {"pods", "pods/log", "pods/exec", "secrets", "configmaps", "services", "serviceaccounts", "serviceaccounts/token", "nodes", "nodes/proxy", "namespaces", "persistentvolumes", "users", "groups"},
		"apps":                         {"deployments", "deployments/scale", "statefulsets", "daemonsets", "replicasets"},
		"batch":                        {"jobs", "cronjobs"},
		"rbac.authorization.k8s.io":    {"roles", "clusterroles", "rolebindings", "clusterrolebindings"},
		"certificates.k8s.io":          {"certificatesigningrequests", "certificatesigningrequests/approval", "signers"},
		"admissionregistration.k8s.io": {"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
		"example.com":                  {"widgets", "widgets/status"},
	}
	groups = []string{"", "apps", "batch", "rbac.authorization.k8s.io", "certificates.k8s.io", "admissionregistration.k8s.io", "example.com"}
	urls   = []string{"/healthz", "/livez", "/readyz", "/version", "/metrics", "/logs/*", "/api/*", "/apis/*"}
	names  = []string{"a", "b", "c", "default", "kubernetes.io/kube-apiserver-client"}
)

// SentinelLabel marks ClusterRoles that no generated aggregationRule
// selects.
const SentinelLabel = "agg-sentinel"

type gen struct {
	r *rand.Rand
	o Options
	c Cluster
}

func (g *gen) pick(l []string) string { return l[g.r.IntN(len(l))] }

func (g *gen) some(l []string, max int) []string {
	n := 1 + g.r.IntN(max)
	var out []string
	for range n {
		s := g.pick(l)
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// rule draws a rule; a namespaced one (of a Role) never names
// non-resource URLs, which the API server rejects there.
func (g *gen) rule(namespaced bool) rbacv1.PolicyRule {
	switch x := g.r.IntN(100); {
	case x < 5 && !namespaced:
		return rbacv1.PolicyRule{Verbs: g.some([]string{"get", "post", "*"}, 2), NonResourceURLs: g.some(append(urls, "*"), 2)}
	case x < 6:
		return rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}
	}
	grp := g.pick(groups)
	r := rbacv1.PolicyRule{Verbs: g.some(verbs, 3), APIGroups: []string{grp}, Resources: g.some(resources[grp], 3)}
	switch x := g.r.IntN(100); {
	case x < 3:
		r.Verbs = []string{"*"}
	case x < 5:
		r.APIGroups = []string{"*"}
	case x < 7:
		r.Resources = []string{"*"}
	case x < 10:
		r.Resources = append(r.Resources, "*/scale")
	case x < 25:
		r.ResourceNames = g.some(names, 2)
	}
	return r
}

func (g *gen) rules(namespaced bool) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, 1+g.r.IntN(6))
	for i := range out {
		out[i] = g.rule(namespaced)
	}
	return out
}

func (g *gen) subjects(ns string) []rbacv1.Subject {
	var out []rbacv1.Subject
	for range 1 + g.r.IntN(3) {
		switch x := g.r.IntN(100); {
		case x < 40:
			out = append(out, rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: g.pick(g.c.Users)})
		case x < 65:
			out = append(out, rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: g.pick(g.c.Groups)})
		case x < 66:
			out = append(out, rbacv1.Subject{Kind: "Group", APIGroup: "rbac.authorization.k8s.io",
				Name: g.pick([]string{"system:authenticated", "system:unauthenticated", "system:serviceaccounts", "system:serviceaccounts:" + g.pick(g.c.Namespaces)})})
		case x < 67:
			out = append(out, rbacv1.Subject{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: rbac.Anonymous})
		default:
			sns := g.pick(g.c.Namespaces)
			s := rbacv1.Subject{Kind: "ServiceAccount", Namespace: sns, Name: fmt.Sprintf("sa-%d", g.r.IntN(g.o.ServiceAccounts))}
			if ns != "" && sns == ns && g.r.IntN(2) == 0 {
				s.Namespace = "" // defaults to the RoleBinding's namespace
			}
			out = append(out, s)
		}
	}
	return out
}

// aggregated adds the ClusterRoles agg-0, agg-1, ... of Options.Aggregated
// with their bindings. They are labelled agg-level=<index> and select the
// roles cr-* by their agg label (values 25 to 29 select nothing), and the
// agg-* roles of lower index only, so that aggregation never cycles: the
// API server's controller settles on one answer.
func (g *gen) aggregated() {
	in := &g.c.Input
	value := func() string { return fmt.Sprint(g.r.IntN(30)) }
	for j := range g.o.Aggregated {
		r := rbacv1.ClusterRole{
			TypeMeta:        metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta:      metav1.ObjectMeta{Name: fmt.Sprintf("agg-%d", j), Labels: map[string]string{"agg-level": fmt.Sprint(j)}},
			AggregationRule: &rbacv1.AggregationRule{},
		}
		for range 1 + g.r.IntN(2) {
			var s metav1.LabelSelector
			switch x := g.r.IntN(8); {
			case x == 0:
				s.MatchLabels = map[string]string{"agg": value()}
			case x == 1:
				s.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "agg", Operator: metav1.LabelSelectorOpIn, Values: []string{value(), value()}}}
			case x == 2:
				s.MatchExpressions = []metav1.LabelSelectorRequirement{
					{Key: "agg", Operator: metav1.LabelSelectorOpIn, Values: []string{value(), value(), value()}},
					{Key: "agg", Operator: metav1.LabelSelectorOpNotIn, Values: []string{value()}},
				}
			case x == 3:
				// Every cr-* but those of 22 agg values.
				var not []string
				for v := range 22 {
					not = append(not, fmt.Sprint(v+g.r.IntN(3)))
				}
				s.MatchExpressions = []metav1.LabelSelectorRequirement{
					{Key: "agg", Operator: metav1.LabelSelectorOpExists},
					{Key: "agg", Operator: metav1.LabelSelectorOpNotIn, Values: not},
				}
			case x == 4 && j > 0:
				s.MatchLabels = map[string]string{"agg-level": fmt.Sprint(g.r.IntN(j))}
			case x == 5 && j > 0:
				s.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "agg-level", Operator: metav1.LabelSelectorOpIn,
					Values: []string{fmt.Sprint(g.r.IntN(j)), fmt.Sprint(g.r.IntN(j))}}}
			case x == 6 && j == g.o.Aggregated-1:
				// Every other ClusterRole (the built-in ones too), safe only
				// for the role no other selects; roles labelled
				// agg-sentinel are left out, so that a test can add
				// ClusterRoles without changing any aggregation.
				s.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: SentinelLabel, Operator: metav1.LabelSelectorOpDoesNotExist}}
			case x == 6:
				s.MatchExpressions = []metav1.LabelSelectorRequirement{
					{Key: "agg-level", Operator: metav1.LabelSelectorOpDoesNotExist},
					{Key: "agg", Operator: metav1.LabelSelectorOpIn, Values: []string{value(), "nested-" + fmt.Sprint(g.r.IntN(5))}},
				}
			default:
				s.MatchLabels = map[string]string{"agg": value(), "absent": "x"} // selects nothing
			}
			r.AggregationRule.ClusterRoleSelectors = append(r.AggregationRule.ClusterRoleSelectors, s)
		}
		if g.r.IntN(3) == 0 {
			r.Rules = g.rules(false)
		}
		in.ClusterRoles = append(in.ClusterRoles, r)
		ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: r.Name}
		if g.r.IntN(2) == 0 {
			in.ClusterRoleBindings = append(in.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: "crb-" + r.Name},
				RoleRef:    ref,
				Subjects:   g.subjects(""),
			})
			continue
		}
		ns := g.pick(g.c.Namespaces)
		in.RoleBindings = append(in.RoleBindings, rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: "rb-" + r.Name, Namespace: ns},
			RoleRef:    ref,
			Subjects:   g.subjects(ns),
		})
	}
}

// Generate makes a cluster; the same options make the same cluster.
func Generate(o Options) Cluster {
	g := &gen{r: rand.New(rand.NewPCG(o.Seed, 0x6b75626567756172)), o: o}
	for i := range o.Namespaces {
		g.c.Namespaces = append(g.c.Namespaces, fmt.Sprintf("ns-%03d", i))
	}
	for i := range o.Users {
		g.c.Users = append(g.c.Users, fmt.Sprintf("user-%d", i))
	}
	for i := range o.Groups {
		g.c.Groups = append(g.c.Groups, fmt.Sprintf("group-%d", i))
	}
	in := &g.c.Input
	nCluster := o.Roles / 5
	for i := range nCluster {
		r := rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i), Labels: map[string]string{"agg": fmt.Sprint(i % 25)}},
		}
		// One ClusterRole in twenty aggregates one of 25 groups of others;
		// one in five hundred aggregates a fifth of those aggregates
		// (nesting, like the built-in admin over edit).
		switch {
		case i%500 == 0:
			r.Labels["agg"] = "top"
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": fmt.Sprintf("nested-%d", i/500%5)}}}}
		case i%20 == 0:
			r.Labels["agg"] = fmt.Sprintf("nested-%d", i/20%5)
			r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"agg": fmt.Sprint(g.r.IntN(25))}}}}
		default:
			r.Rules = g.rules(false)
		}
		in.ClusterRoles = append(in.ClusterRoles, r)
	}
	g.aggregated()
	for i := range o.Roles - nCluster {
		ns := g.c.Namespaces[i%len(g.c.Namespaces)]
		in.Roles = append(in.Roles, rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("role-%d", i/len(g.c.Namespaces)), Namespace: ns},
			Rules:      g.rules(true),
		})
	}
	rolesPerNS := max(1, (o.Roles-nCluster)/max(1, len(g.c.Namespaces)))
	for i := range o.Bindings {
		if i%5 == 0 {
			in.ClusterRoleBindings = append(in.ClusterRoleBindings, rbacv1.ClusterRoleBinding{
				TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: fmt.Sprintf("cr-%d", g.r.IntN(max(1, nCluster)+nCluster/50))},
				Subjects:   g.subjects(""),
			})
			continue
		}
		ns := g.pick(g.c.Namespaces)
		ref := rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: fmt.Sprintf("role-%d", g.r.IntN(rolesPerNS+1))}
		if g.r.IntN(3) == 0 {
			ref.Kind, ref.Name = "ClusterRole", fmt.Sprintf("cr-%d", g.r.IntN(max(1, nCluster)))
		}
		in.RoleBindings = append(in.RoleBindings, rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb-%d", i), Namespace: ns},
			RoleRef:    ref,
			Subjects:   g.subjects(ns),
		})
	}
	for _, ns := range g.c.Namespaces {
		for i := range o.ServiceAccounts {
			g.c.ServiceAccounts = append(g.c.ServiceAccounts, corev1.ServiceAccount{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sa-%d", i), Namespace: ns},
			})
		}
	}
	for i := range o.Workloads {
		ns := g.pick(g.c.Namespaces)
		labels := map[string]string{"app": fmt.Sprintf("app-%d", i)}
		g.c.Workloads = append(g.c.Workloads, appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d", i), Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{
						ServiceAccountName: fmt.Sprintf("sa-%d", g.r.IntN(max(1, o.ServiceAccounts))),
						Containers:         []corev1.Container{{Name: "app", Image: "registry.example.com/app:1.0"}},
					},
				},
			},
		})
	}
	return g.c
}

// YAML renders the cluster as a manifest stream in block style, as people
// write manifests.
func (c Cluster) YAML() []byte {
	var buf bytes.Buffer
	add := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err) // generated values always marshal
		}
		var n yaml.Node
		if err := yaml.Unmarshal(b, &n); err != nil {
			panic(err)
		}
		block(&n)
		buf.WriteString("---\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&n); err != nil {
			panic(err)
		}
		enc.Close()
	}
	for _, o := range c.Input.ClusterRoles {
		add(o)
	}
	for _, o := range c.Input.Roles {
		add(o)
	}
	for _, o := range c.Input.ClusterRoleBindings {
		add(o)
	}
	for _, o := range c.Input.RoleBindings {
		add(o)
	}
	for _, o := range c.ServiceAccounts {
		add(o)
	}
	for _, o := range c.Workloads {
		add(o)
	}
	return buf.Bytes()
}

// block drops JSON's flow style and needless quotes.
func block(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		var v any
		if yaml.Unmarshal([]byte(n.Value), &v) != nil || v != n.Value {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		block(c)
	}
}

// Request is one question for the authorizer.
type Request struct {
	User       rbac.User
	Attributes rbac.Attributes
}

// Requests draws n requests from the pools the cluster's rules use, by
// identities its bindings name, with the groups authentication gives them.
func (c Cluster) Requests(seed uint64, n int) []Request {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x7265717565737473)), c: c}
	out := make([]Request, n)
	for i := range out {
		var u rbac.User
		switch x := g.r.IntN(100); {
		case x < 45:
			extra := []string{}
			if g.r.IntN(2) == 0 {
				extra = append(extra, g.pick(c.Groups))
			}
			if g.r.IntN(15) == 0 {
				extra = append(extra, rbac.SystemMasters)
			}
			u = rbac.Authenticated(g.pick(c.Users), extra...)
		case x < 95:
			u = rbac.Authenticated(rbac.ServiceAccountUsername(g.pick(c.Namespaces), fmt.Sprintf("sa-%d", g.r.IntN(3))))
		default:
			u = rbac.Authenticated(rbac.Anonymous)
		}
		var a rbac.Attributes
		if g.r.IntN(10) == 0 {
			a = rbac.Attributes{Verb: g.pick([]string{"get", "post"}), Path: g.pick([]string{"/healthz", "/logs/kubelet.log", "/api/v1", "/apis", "/metrics", "/other"})}
		} else {
			grp := g.pick(groups)
			res := g.pick(resources[grp])
			a = rbac.Attributes{Verb: g.pick(verbs), ResourceRequest: true, APIGroup: grp, Resource: res}
			if base, sub, ok := strings.Cut(res, "/"); ok {
				a.Resource, a.Subresource = base, sub
			}
			if g.r.IntN(2) == 0 {
				a.Name = g.pick(names)
			}
			if g.r.IntN(5) != 0 {
				a.Namespace = g.pick(c.Namespaces)
			}
		}
		out[i] = Request{User: u, Attributes: a}
	}
	return out
}
