package rbac

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/run"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The file sets of TestFileSetsMatchServer: a repository with a shared
// base and two environments that define the same ClusterRole, Role and
// bindings differently. Both environments define the same names with the
// same roleRefs (which the server does not let an update change), so that
// the server moves from one to the other by updates.
const (
	fsGroup = "fsv.kubeguard.dev"
	fsA     = "fsv-a"
	fsB     = "fsv-b"
)

func fsRule(verbs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: resources}
}

func fsRole(ns, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: rbacAPI + "/v1", Kind: "Role"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Rules: rules}
}

func fsServiceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: ns}
}

var fsSets = map[string]rbac.Input{
	"envs/base.yaml": {
		ClusterRoles:        []rbacv1.ClusterRole{clusterRole("fsv-base", nil, fsRule([]string{"get"}, fsGroup, "widgets"))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("fsv-base", "fsv-base", group("fsv-all"))},
		RoleBindings: []rbacv1.RoleBinding{
			roleBinding(fsA, "fsv-auditors", "ClusterRole", "fsv-app", group("fsv-auditors")),
			roleBinding(fsB, "fsv-deployers", "Role", "fsv-deployer", user("fsv-carol")),
		},
	},
	"envs/prod/rbac.yaml": {
		ClusterRoles: []rbacv1.ClusterRole{clusterRole("fsv-app", nil,
			fsRule([]string{"get", "list"}, fsGroup, "widgets"), fsRule([]string{"get"}, "", "secrets"))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("fsv-app", "fsv-app", fsServiceAccount(fsA, "web"))},
		Roles:               []rbacv1.Role{fsRole(fsB, "fsv-deployer", fsRule([]string{"create"}, fsGroup, "gadgets"))},
		RoleBindings:        []rbacv1.RoleBinding{roleBinding(fsA, "fsv-dev", "ClusterRole", "fsv-app", user("fsv-dave"))},
	},
	"envs/staging/rbac.yaml": {
		ClusterRoles: []rbacv1.ClusterRole{clusterRole("fsv-app", nil, fsRule([]string{"*"}, fsGroup, "*"))},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("fsv-app", "fsv-app",
			fsServiceAccount(fsA, "web"), user("fsv-dave"))},
		Roles: []rbacv1.Role{fsRole(fsB, "fsv-deployer",
			fsRule([]string{"delete"}, fsGroup, "gadgets"), fsRule([]string{"get"}, fsGroup, "widgets"))},
		RoleBindings: []rbacv1.RoleBinding{roleBinding(fsA, "fsv-dev", "ClusterRole", "fsv-app", group("fsv-devs"))},
	},
}

// TestFileSetsMatchServer holds kubeguard's answers for an input with
// separate file sets to the server's: for each file set, every request
// kubeguard answers for that set (package rbac's view, and `rbac can-i`)
// is answered alike by the server holding exactly the objects of that set
// (its own, and the shared base's). The server moves from one set to the
// other by updating the objects; a sentinel of each RBAC kind, written
// last, says when its authorizer's caches hold the set.
func TestFileSetsMatchServer(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for name, in := range fsSets {
		data, err := manifests(in)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	envs := filepath.Join(dir, "envs")
	in, err := run.LoadRBAC(ctx, []string{envs}, nil, true, "")
	if err != nil || len(in.Errors) > 0 {
		t.Fatalf("load: %v %v", err, in.Errors)
	}
	views := map[string]*rbac.Policy{}
	for _, v := range in.Views {
		views[strings.TrimPrefix(v.Name, envs+"/")] = v.Policy
	}
	if len(views) != 2 || views["prod"] == nil || views["staging"] == nil {
		t.Fatalf("views %s, want prod and staging", rbac.ViewNames(in.Views))
	}

	for _, ns := range []string{fsA, fsB} {
		_, err := srv.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { fsDelete(context.Background(), t) })

	// Every request of these users, verbs and resources, in both
	// namespaces and cluster-wide, but those the server allows before any
	// object of the test exists (through other tests' objects, which are
	// not kubeguard's input here).
	sa := rbac.Authenticated(rbac.ServiceAccountUsername(fsA, "web"))
	users := []rbac.User{
		rbac.Authenticated("fsv-dave"), rbac.Authenticated("fsv-dave", "fsv-devs"), rbac.Authenticated("fsv-carol"),
		rbac.Authenticated("fsv-erin", "fsv-auditors"), rbac.Authenticated("fsv-frank", "fsv-all"), sa, rbac.Authenticated("fsv-nobody"),
	}
	type request struct {
		u rbac.User
		a rbac.Attributes
	}
	var reqs []request
	for _, u := range users {
		for _, verb := range []string{"get", "list", "create", "delete"} {
			for _, res := range [][2]string{{fsGroup, "widgets"}, {fsGroup, "gadgets"}, {"", "secrets"}} {
				for _, ns := range []string{fsA, fsB, ""} {
					reqs = append(reqs, request{u, rbac.Attributes{Verb: verb, ResourceRequest: true, Namespace: ns, APIGroup: res[0], Resource: res[1]}})
				}
			}
		}
	}
	baseline := make([]bool, len(reqs))
	if err := createAll(ctx, len(reqs), func(ctx context.Context, i int) error {
		st, err := review(ctx, reqs[i].u, reqs[i].a)
		baseline[i] = st.Allowed
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// kubeguard's answers, per file set: the package's and the CLI's.
	type answers struct{ pkg, cli map[string]bool }
	got := make([]answers, len(reqs))
	for i, r := range reqs {
		got[i] = answers{pkg: map[string]bool{}, cli: map[string]bool{}}
		for name, p := range views {
			got[i].pkg[name] = rbac.NewAuthorizer(p).Decide(r.u, r.a).Allowed
		}
		var res string
		if r.a.APIGroup != "" {
			res = r.a.Resource + "." + r.a.APIGroup
		} else {
			res = r.a.Resource
		}
		args := []string{"rbac", "can-i", r.a.Verb, res}
		if r.a.Namespace == "" {
			args = append(args, "-A")
		} else {
			args = append(args, "-n", r.a.Namespace)
		}
		if ns, name, ok := rbac.ParseServiceAccountUsername(r.u.Name); ok {
			args = append(args, "--as-sa", ns+"/"+name)
		} else {
			args = append(args, "--as", r.u.Name)
			for _, g := range r.u.Groups {
				if !strings.HasPrefix(g, "system:") {
					args = append(args, "--as-group", g)
				}
			}
		}
		args = append(args, "-o", "json", "-f", envs)
		var stdout, stderr bytes.Buffer
		code := cli.Run(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
		var out struct {
			Allowed  bool `json:"allowed"`
			FileSets []struct {
				Allowed  bool     `json:"allowed"`
				FileSets []string `json:"fileSets"`
			} `json:"fileSets"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("kubeguard %s: exit %d: %v\n%s%s", strings.Join(args, " "), code, err, stdout.Bytes(), stderr.Bytes())
		}
		if len(out.FileSets) == 0 {
			for name := range views {
				got[i].cli[name] = out.Allowed
			}
		}
		for _, f := range out.FileSets {
			for _, name := range f.FileSets {
				got[i].cli[strings.TrimPrefix(name, envs+"/")] = f.Allowed
			}
		}
		if want := (code == cli.ExitOK); want != out.Allowed {
			t.Errorf("kubeguard %s: exit %d with allowed=%t", strings.Join(args, " "), code, out.Allowed)
		}
	}

	compared, differ := 0, 0
	for _, name := range []string{"prod", "staging"} {
		fsApply(ctx, t, name)
		server := make([]bool, len(reqs))
		if err := createAll(ctx, len(reqs), func(ctx context.Context, i int) error {
			st, err := review(ctx, reqs[i].u, reqs[i].a)
			server[i] = st.Allowed
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for i, r := range reqs {
			if baseline[i] {
				continue
			}
			compared++
			if got[i].pkg[name] != server[i] || got[i].cli[name] != server[i] {
				t.Errorf("%s: %s as %s %v: kubeguard %t (CLI %t), server %t", name, r.a, r.u.Name, r.u.Groups, got[i].pkg[name], got[i].cli[name], server[i])
			}
			if got[i].pkg["prod"] != got[i].pkg["staging"] {
				differ++
			}
		}
	}
	skipped := 0
	for _, b := range baseline {
		if b {
			skipped++
		}
	}
	t.Logf("%d requests, %d allowed before the test's objects (left out); %d answers compared, %d where the file sets differ", len(reqs), skipped, compared, differ/2)
	if differ == 0 {
		t.Error("no request the file sets answer differently: the test tells nothing")
	}
}

// fsApply makes the server hold the objects of the base and of one
// environment, and waits until its authorizer does.
func fsApply(ctx context.Context, t *testing.T, env string) {
	t.Helper()
	in := merge(fsSets["envs/base.yaml"], fsSets["envs/"+env+"/rbac.yaml"])
	// The sentinels, last, name the environment: once the server allows
	// them, its caches of each kind hold what was written before.
	who := "fsv-sentinel-" + env
	rule := fsRule([]string{"get"}, "e2e.kubeguard.dev", "fsvsentinels")
	rule.ResourceNames = []string{env}
	in = merge(in, rbac.Input{
		ClusterRoles:        []rbacv1.ClusterRole{clusterRole("fsv-sentinel", nil, rule)},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{clusterRoleBinding("fsv-sentinel", "fsv-sentinel", user(who))},
		Roles:               []rbacv1.Role{fsRole(fsA, "fsv-sentinel", rule)},
		RoleBindings:        []rbacv1.RoleBinding{roleBinding(fsA, "fsv-sentinel", "Role", "fsv-sentinel", user(who))},
	})
	c := srv.Client.RbacV1()
	upsert := func(what string, create, update func() error) {
		err := create()
		if apierrors.IsAlreadyExists(err) {
			err = update()
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// In order: roles, then bindings, the sentinels of each kind last.
	for i := range in.ClusterRoles {
		r := in.ClusterRoles[i]
		upsert("ClusterRole "+r.Name, func() error { _, err := c.ClusterRoles().Create(ctx, &r, metav1.CreateOptions{}); return err }, func() error {
			old, err := c.ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			old.Rules = r.Rules
			_, err = c.ClusterRoles().Update(ctx, old, metav1.UpdateOptions{})
			return err
		})
	}
	for i := range in.Roles {
		r := in.Roles[i]
		upsert("Role "+r.Name, func() error { _, err := c.Roles(r.Namespace).Create(ctx, &r, metav1.CreateOptions{}); return err }, func() error {
			old, err := c.Roles(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			old.Rules = r.Rules
			_, err = c.Roles(r.Namespace).Update(ctx, old, metav1.UpdateOptions{})
			return err
		})
	}
	for i := range in.ClusterRoleBindings {
		b := in.ClusterRoleBindings[i]
		upsert("ClusterRoleBinding "+b.Name, func() error {
			_, err := c.ClusterRoleBindings().Create(ctx, &b, metav1.CreateOptions{})
			return err
		}, func() error {
			old, err := c.ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			old.Subjects = b.Subjects
			_, err = c.ClusterRoleBindings().Update(ctx, old, metav1.UpdateOptions{})
			return err
		})
	}
	for i := range in.RoleBindings {
		b := in.RoleBindings[i]
		upsert("RoleBinding "+b.Name, func() error {
			_, err := c.RoleBindings(b.Namespace).Create(ctx, &b, metav1.CreateOptions{})
			return err
		}, func() error {
			old, err := c.RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			old.Subjects = b.Subjects
			_, err = c.RoleBindings(b.Namespace).Update(ctx, old, metav1.UpdateOptions{})
			return err
		})
	}
	deadline := time.Now().Add(time.Minute)
	for _, ns := range []string{"", fsA} {
		a := rbac.Attributes{Verb: "get", ResourceRequest: true, Namespace: ns, APIGroup: "e2e.kubeguard.dev", Resource: "fsvsentinels", Name: env}
		for {
			// Through the ClusterRoleBinding (cluster-wide) and the
			// RoleBinding (in fsv-a), each by the environment's user and
			// name: the caches of all four kinds hold the environment.
			st, err := review(ctx, rbac.User{Name: who}, a)
			if err != nil {
				t.Fatal(err)
			}
			if st.Allowed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sentinel of %s not authorized after a minute", env)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// fsDelete removes the test's objects, so that other tests see the server
// as they left it.
func fsDelete(ctx context.Context, t *testing.T) {
	c := srv.Client.RbacV1()
	del := metav1.DeleteOptions{}
	for _, name := range []string{"fsv-base", "fsv-app", "fsv-sentinel"} {
		for _, err := range []error{c.ClusterRoleBindings().Delete(ctx, name, del), c.ClusterRoles().Delete(ctx, name, del)} {
			if err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("clean up %s: %v", name, err)
			}
		}
	}
	// No namespace controller runs here to empty a deleted namespace: its
	// roles and bindings go first.
	for _, ns := range []string{fsA, fsB} {
		for _, name := range []string{"fsv-auditors", "fsv-deployers", "fsv-dev", "fsv-sentinel"} {
			if err := c.RoleBindings(ns).Delete(ctx, name, del); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("clean up RoleBinding %s/%s: %v", ns, name, err)
			}
		}
		for _, name := range []string{"fsv-deployer", "fsv-sentinel"} {
			if err := c.Roles(ns).Delete(ctx, name, del); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("clean up Role %s/%s: %v", ns, name, err)
			}
		}
		if err := srv.Client.CoreV1().Namespaces().Delete(ctx, ns, del); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("clean up namespace %s: %v", ns, err)
		}
	}
}
