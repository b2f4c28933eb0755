package rbac

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kubeguard/kubeguard/internal/rbac"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const bootstrapSelector = "kubernetes.io/bootstrapping=rbac-defaults"

// TestDefaultsFileIsGenerated runs tools/rbacdefaults against the server
// and requires its output to be, byte for byte, the data file kubeguard
// embeds: the file is what the generator makes of a real API server of
// this version, not something written by hand or left stale.
func TestDefaultsFileIsGenerated(t *testing.T) {
	root := moduleRoot(t)
	dir := t.TempDir()
	token, ca := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(token, []byte(srv.AdminToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, srv.CAData, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "run", "./tools/rbacdefaults",
		"--server", srv.URL, "--token-file", token, "--certificate-authority", ca, "-o", "-")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rbacdefaults: %v\n%s", err, stderr.Bytes())
	}
	committed, err := os.ReadFile(filepath.Join(root, rbac.DefaultsFile))
	if err != nil {
		t.Fatalf("%v (generate it: go run ./tools/rbacdefaults against this suite's kube-apiserver)", err)
	}
	if !bytes.Equal(stdout.Bytes(), committed) {
		t.Errorf("%s is not what tools/rbacdefaults makes of kube-apiserver %s (-committed +generated):\n%s",
			rbac.DefaultsFile, srv.Version, cmp.Diff(strings.Split(string(committed), "\n"), strings.Split(stdout.String(), "\n")))
	}
}

// builtin is the data file's objects, decoded.
type builtin struct {
	clusterRoles        map[string]rbacv1.ClusterRole
	clusterRoleBindings map[string]rbacv1.ClusterRoleBinding
	roles               map[string]rbacv1.Role        // namespace/name
	roleBindings        map[string]rbacv1.RoleBinding // namespace/name
}

func readBuiltin(t *testing.T) builtin {
	t.Helper()
	objs, err := rbac.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	b := builtin{map[string]rbacv1.ClusterRole{}, map[string]rbacv1.ClusterRoleBinding{}, map[string]rbacv1.Role{}, map[string]rbacv1.RoleBinding{}}
	for _, o := range objs {
		data, err := o.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var decodeErr error
		switch o.Ref.Kind {
		case "ClusterRole":
			var v rbacv1.ClusterRole
			decodeErr = json.Unmarshal(data, &v)
			b.clusterRoles[v.Name] = v
		case "ClusterRoleBinding":
			var v rbacv1.ClusterRoleBinding
			decodeErr = json.Unmarshal(data, &v)
			b.clusterRoleBindings[v.Name] = v
		case "Role":
			var v rbacv1.Role
			decodeErr = json.Unmarshal(data, &v)
			b.roles[v.Namespace+"/"+v.Name] = v
		case "RoleBinding":
			var v rbacv1.RoleBinding
			decodeErr = json.Unmarshal(data, &v)
			b.roleBindings[v.Namespace+"/"+v.Name] = v
		default:
			t.Errorf("%s: unexpected kind in the built-in data", o.Ref)
		}
		if decodeErr != nil {
			t.Fatalf("%s: %v", o.Ref, decodeErr)
		}
	}
	return b
}

// TestDefaultsAreTheServers compares the embedded data with the server's
// bootstrap objects directly, without the generator: the same objects,
// the same rules, aggregation rules, role references and subjects. The
// rules of aggregated ClusterRoles are not data but computed (see
// TestDefaultsAggregation).
func TestDefaultsAreTheServers(t *testing.T) {
	b := readBuiltin(t)
	ctx := t.Context()
	opts := metav1.ListOptions{LabelSelector: bootstrapSelector}
	rbacClient := srv.Client.RbacV1()
	crs, err := rbacClient.ClusterRoles().List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	crbs, err := rbacClient.ClusterRoleBindings().List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rbacClient.Roles("").List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := rbacClient.RoleBindings("").List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	eq := cmpopts.EquateEmpty()
	names := func(n int, name func(i int) string) []string {
		var out []string
		for i := range n {
			out = append(out, name(i))
		}
		return out
	}
	sorted := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	for _, c := range []struct {
		kind       string
		server, us []string
	}{
		{"ClusterRoles", names(len(crs.Items), func(i int) string { return crs.Items[i].Name }), slices.Collect(maps.Keys(b.clusterRoles))},
		{"ClusterRoleBindings", names(len(crbs.Items), func(i int) string { return crbs.Items[i].Name }), slices.Collect(maps.Keys(b.clusterRoleBindings))},
		{"Roles", names(len(rs.Items), func(i int) string { return rs.Items[i].Namespace + "/" + rs.Items[i].Name }), slices.Collect(maps.Keys(b.roles))},
		{"RoleBindings", names(len(rbs.Items), func(i int) string { return rbs.Items[i].Namespace + "/" + rbs.Items[i].Name }), slices.Collect(maps.Keys(b.roleBindings))},
	} {
		if diff := cmp.Diff(c.server, c.us, sorted); diff != "" {
			t.Errorf("%s (-server +data):\n%s", c.kind, diff)
		}
	}
	t.Logf("server: %d ClusterRoles, %d ClusterRoleBindings, %d Roles, %d RoleBindings labelled %s",
		len(crs.Items), len(crbs.Items), len(rs.Items), len(rbs.Items), bootstrapSelector)
	for _, s := range crs.Items {
		d := b.clusterRoles[s.Name]
		if diff := cmp.Diff(s.AggregationRule, d.AggregationRule, eq); diff != "" {
			t.Errorf("ClusterRole %s aggregationRule (-server +data):\n%s", s.Name, diff)
		}
		if s.AggregationRule == nil {
			if diff := cmp.Diff(s.Rules, d.Rules, eq); diff != "" {
				t.Errorf("ClusterRole %s rules (-server +data):\n%s", s.Name, diff)
			}
		}
		if diff := cmp.Diff(s.Labels, d.Labels, eq); diff != "" {
			t.Errorf("ClusterRole %s labels (-server +data):\n%s", s.Name, diff)
		}
	}
	for _, s := range crbs.Items {
		d := b.clusterRoleBindings[s.Name]
		if diff := cmp.Diff([]any{s.RoleRef, s.Subjects}, []any{d.RoleRef, d.Subjects}, eq); diff != "" {
			t.Errorf("ClusterRoleBinding %s (-server +data):\n%s", s.Name, diff)
		}
	}
	for _, s := range rs.Items {
		d := b.roles[s.Namespace+"/"+s.Name]
		if diff := cmp.Diff(s.Rules, d.Rules, eq); diff != "" {
			t.Errorf("Role %s/%s rules (-server +data):\n%s", s.Namespace, s.Name, diff)
		}
	}
	for _, s := range rbs.Items {
		d := b.roleBindings[s.Namespace+"/"+s.Name]
		if diff := cmp.Diff([]any{s.RoleRef, s.Subjects}, []any{d.RoleRef, d.Subjects}, eq); diff != "" {
			t.Errorf("RoleBinding %s/%s (-server +data):\n%s", s.Namespace, s.Name, diff)
		}
	}
}

// TestDefaultsAggregation runs the upstream aggregation controller and
// compares the rules it writes into the built-in aggregated ClusterRoles
// (admin, edit, view and the others) with the rules kubeguard computes
// from the data file, rule for rule and in order.
func TestDefaultsAggregation(t *testing.T) {
	server := settleAggregation(t)
	objs, err := rbac.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	var bld rbac.Builder
	bld.AddDefaults(objs)
	p := bld.Build()
	n := 0
	for name, r := range p.ClusterRoles {
		if !r.Aggregated() {
			continue
		}
		n++
		s, ok := server[name]
		if !ok {
			t.Errorf("ClusterRole %s: not on the server", name)
			continue
		}
		if diff := cmp.Diff(s.Rules, r.Rules, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ClusterRole %s: aggregated rules (-controller +kubeguard):\n%s", name, diff)
		}
	}
	if n < 3 {
		t.Errorf("%d aggregated built-in ClusterRoles; want admin, edit and view at least", n)
	}
	t.Logf("%d aggregated built-in ClusterRoles agree", n)
}
