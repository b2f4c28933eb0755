package rbac

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// world is a generated RBAC set, created in the server and built into a
// kubeguard policy from the same objects plus the built-in data.
type world struct {
	cluster rbactest.Cluster
	// extra are the test's own objects: bindings to built-in and missing
	// roles, the anonymous identity's right to review itself, sentinels.
	extra  rbac.Input
	policy *rbac.Policy
	az     *rbac.Authorizer
	// server is the server's ClusterRoles once aggregation settled.
	server map[string]rbacv1.ClusterRole
	// dir holds the input as manifests, for the CLI.
	dir string
}

var (
	worldOnce sync.Once
	theWorld  *world
	worldErr  error
)

// setup builds the world once for the package.
func setup(t *testing.T) *world {
	t.Helper()
	worldOnce.Do(func() {
		theWorld, worldErr = build(t)
	})
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return theWorld
}

const (
	rbacAPI      = "rbac.authorization.k8s.io"
	sentinelUser = "e2e-sentinel"
)

func clusterRole(name string, labels map[string]string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPI + "/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
}

func clusterRoleBinding(name, role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPI + "/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: rbacv1.RoleRef{APIGroup: rbacAPI, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func roleBinding(ns, name, kind, role string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPI + "/v1", Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, RoleRef: rbacv1.RoleRef{APIGroup: rbacAPI, Kind: kind, Name: role}, Subjects: subjects}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "User", APIGroup: rbacAPI, Name: name}
}
func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: "Group", APIGroup: rbacAPI, Name: name}
}

// extraObjects are bindings of generated subjects to the built-in
// aggregated roles (admin, edit, view) and to roles that do not exist, and
// the right of anonymous requests to review themselves, which the
// identity test needs.
func extraObjects() rbac.Input {
	return rbac.Input{
		ClusterRoles: []rbacv1.ClusterRole{
			clusterRole("e2e-self-review", nil,
				rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews"}},
				rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"selfsubjectreviews"}}),
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			clusterRoleBinding("e2e-anonymous-self-review", "e2e-self-review", group(rbac.AllUnauthenticated)),
			clusterRoleBinding("e2e-view", "view", user("user-2")),
			clusterRoleBinding("e2e-missing", "e2e-absent", group("group-2"), user("user-4")),
		},
		RoleBindings: []rbacv1.RoleBinding{
			roleBinding("ns-000", "e2e-admin", "ClusterRole", "admin", user("user-0")),
			roleBinding("ns-001", "e2e-edit", "ClusterRole", "edit", group("group-1")),
			roleBinding("ns-002", "e2e-missing", "ClusterRole", "e2e-does-not-exist", user("user-3"), group("group-3")),
			roleBinding("ns-003", "e2e-missing-role", "Role", "e2e-does-not-exist", user("user-3")),
		},
	}
}

// sentinels are created last: once the server authorizes the sentinel
// user through both, its RBAC caches hold every object created before
// them. The ClusterRole carries the label no generated aggregationRule
// selects, so it changes no aggregation.
func sentinels() rbac.Input {
	rule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{"e2e.kubeguard.dev"}, Resources: []string{"sentinels"}}
	return rbac.Input{
		ClusterRoles:        []rbacv1.ClusterRole{clusterRole("zz-sentinel", map[string]string{rbactest.SentinelLabel: "true"}, rule)},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("zz-sentinel", "zz-sentinel", user(sentinelUser))},
		Roles: []rbacv1.Role{{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPI + "/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: "zz-sentinel", Namespace: "ns-000"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: rule.APIGroups, Resources: rule.Resources}}}},
		RoleBindings: []rbacv1.RoleBinding{roleBinding("ns-000", "zz-sentinel", "Role", "zz-sentinel", user(sentinelUser))},
	}
}

func merge(ins ...rbac.Input) rbac.Input {
	var out rbac.Input
	for _, in := range ins {
		out.ClusterRoles = append(out.ClusterRoles, in.ClusterRoles...)
		out.Roles = append(out.Roles, in.Roles...)
		out.ClusterRoleBindings = append(out.ClusterRoleBindings, in.ClusterRoleBindings...)
		out.RoleBindings = append(out.RoleBindings, in.RoleBindings...)
	}
	return out
}

// create makes the objects in the server: roles before the bindings that
// refer to them, as people apply them.
func create(ctx context.Context, in rbac.Input) error {
	c := srv.Client.RbacV1()
	opts := metav1.CreateOptions{}
	steps := []struct {
		n int
		f func(ctx context.Context, i int) error
	}{
		{len(in.ClusterRoles), func(ctx context.Context, i int) error {
			_, err := c.ClusterRoles().Create(ctx, &in.ClusterRoles[i], opts)
			return check(err, "create ClusterRole %s", in.ClusterRoles[i].Name)
		}},
		{len(in.Roles), func(ctx context.Context, i int) error {
			r := &in.Roles[i]
			_, err := c.Roles(r.Namespace).Create(ctx, r, opts)
			return check(err, "create Role %s/%s", r.Namespace, r.Name)
		}},
		{len(in.ClusterRoleBindings), func(ctx context.Context, i int) error {
			_, err := c.ClusterRoleBindings().Create(ctx, &in.ClusterRoleBindings[i], opts)
			return check(err, "create ClusterRoleBinding %s", in.ClusterRoleBindings[i].Name)
		}},
		{len(in.RoleBindings), func(ctx context.Context, i int) error {
			b := &in.RoleBindings[i]
			_, err := c.RoleBindings(b.Namespace).Create(ctx, b, opts)
			return check(err, "create RoleBinding %s/%s", b.Namespace, b.Name)
		}},
	}
	for _, s := range steps {
		if err := createAll(ctx, s.n, s.f); err != nil {
			return err
		}
	}
	return nil
}

func build(t *testing.T) (*world, error) {
	ctx := context.Background()
	w := &world{cluster: rbactest.Generate(rbactest.Small), extra: extraObjects()}
	for _, ns := range w.cluster.Namespaces {
		if _, err := srv.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return nil, check(err, "create namespace %s", ns)
		}
	}
	sas := w.cluster.ServiceAccounts
	if err := createAll(ctx, len(sas), func(ctx context.Context, i int) error {
		_, err := srv.Client.CoreV1().ServiceAccounts(sas[i].Namespace).Create(ctx, &sas[i], metav1.CreateOptions{})
		return check(err, "create ServiceAccount %s/%s", sas[i].Namespace, sas[i].Name)
	}); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := create(ctx, merge(w.cluster.Input, w.extra)); err != nil {
		return nil, err
	}
	t.Logf("created %d ClusterRoles, %d Roles, %d ClusterRoleBindings, %d RoleBindings in %s",
		len(w.cluster.Input.ClusterRoles)+len(w.extra.ClusterRoles), len(w.cluster.Input.Roles),
		len(w.cluster.Input.ClusterRoleBindings)+len(w.extra.ClusterRoleBindings),
		len(w.cluster.Input.RoleBindings)+len(w.extra.RoleBindings), time.Since(start).Round(time.Millisecond))
	settleAggregation(t)
	if err := create(ctx, sentinels()); err != nil {
		return nil, err
	}
	if err := waitSentinels(ctx); err != nil {
		return nil, err
	}
	// The sentinel ClusterRole must have changed no aggregation.
	w.server = settleAggregation(t)

	defs, err := rbac.Defaults()
	if err != nil {
		return nil, err
	}
	all := merge(w.cluster.Input, w.extra, sentinels())
	var b rbac.Builder
	b.AddDefaults(defs)
	b.AddInput(all)
	w.policy = b.Build()
	if len(w.policy.Problems)+len(w.policy.Warnings) > 0 {
		return nil, fmt.Errorf("policy problems %v, warnings %v", w.policy.Problems, w.policy.Warnings)
	}
	w.az = rbac.NewAuthorizer(w.policy)

	w.dir, err = os.MkdirTemp("", "kubeguard-e2e-rbac-")
	if err != nil {
		return nil, err
	}
	extra, err := manifests(merge(w.extra, sentinels()))
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"generated.yaml": w.cluster.YAML(), "extra.yaml": extra} {
		if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// manifests renders typed objects as a YAML stream.
func manifests(in rbac.Input) ([]byte, error) {
	var objs []any
	for i := range in.ClusterRoles {
		objs = append(objs, &in.ClusterRoles[i])
	}
	for i := range in.Roles {
		objs = append(objs, &in.Roles[i])
	}
	for i := range in.ClusterRoleBindings {
		objs = append(objs, &in.ClusterRoleBindings[i])
	}
	for i := range in.RoleBindings {
		objs = append(objs, &in.RoleBindings[i])
	}
	var out []byte
	for _, o := range objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		out = append(append(out, "---\n"...), b...)
	}
	return out, nil
}

func waitSentinels(ctx context.Context) error {
	reqs := []rbac.Attributes{
		{Verb: "get", ResourceRequest: true, APIGroup: "e2e.kubeguard.dev", Resource: "sentinels"},
		{Verb: "list", ResourceRequest: true, Namespace: "ns-000", APIGroup: "e2e.kubeguard.dev", Resource: "sentinels"},
	}
	deadline := time.Now().Add(time.Minute)
	for _, a := range reqs {
		for {
			r, err := review(ctx, rbac.User{Name: sentinelUser}, a)
			if err != nil {
				return err
			}
			if r.Allowed {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("sentinel %s not authorized after a minute", a)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// review asks the server a SubjectAccessReview.
func review(ctx context.Context, u rbac.User, a rbac.Attributes) (authorizationv1.SubjectAccessReviewStatus, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: u.Name, Groups: u.Groups}}
	if a.ResourceRequest {
		sar.Spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb,
			Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
	} else {
		sar.Spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
	}
	r, err := srv.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return authorizationv1.SubjectAccessReviewStatus{}, fmt.Errorf("SubjectAccessReview %s as %s: %w", a, u.Name, err)
	}
	return r.Status, nil
}
