package rbac

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// parseAt reads a YAML stream into objects named as file name.
func parseAt(t testing.TB, name, yaml string) []*object.Object {
	t.Helper()
	var out []*object.Object
	for _, d := range manifest.Split([]byte(yaml)) {
		objs, errs := manifest.Parse(name, d)
		if len(errs) > 0 {
			t.Fatalf("parse: %v", errs)
		}
		out = append(out, objs...)
	}
	return out
}

func secretsRole(name, verb string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %s}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [%s]}
---
`, name, verb)
}

// viewOf returns the view named name.
func viewOf(t *testing.T, vs []View, name string) *Policy {
	t.Helper()
	for _, v := range vs {
		if v.Name == name {
			return v.Policy
		}
	}
	t.Fatalf("no view %q among %s", name, ViewNames(vs))
	return nil
}

func verbsOf(p *Policy, role string) string {
	if r := p.ClusterRoles[role]; r != nil {
		return strings.Join(r.Rules[0].Verbs, ",")
	}
	return "none"
}

// TestViews: copies in separate directories make a view each, with the
// objects above them; copies within one file set stay last-wins, warned.
func TestViews(t *testing.T) {
	var b Builder
	for _, f := range []struct{ name, yaml string }{
		{"envs/base.yaml", secretsRole("shared", "list")},
		{"envs/prod/x.yaml", secretsRole("app", "get") + secretsRole("prod-only", "get")},
		{"envs/prod/a/r.yaml", secretsRole("team", "get")},
		{"envs/prod/b/r.yaml", secretsRole("team", "watch")},
		{"envs/staging/r.yaml", secretsRole("app", "delete") + secretsRole("app", "patch")},
		{"envs/staging/more.yaml", secretsRole("shared2", "get")},
	} {
		for _, o := range parseAt(t, f.name, f.yaml) {
			b.Add(o)
		}
	}
	vs := b.Views()
	if got := ViewNames(vs); got != "envs/prod/a, envs/prod/b, envs/staging" {
		t.Fatalf("views %s", got)
	}
	for _, c := range []struct{ view, role, verbs string }{
		{"envs/prod/a", "app", "get"},
		{"envs/prod/a", "team", "get"},
		{"envs/prod/a", "shared", "list"},
		{"envs/prod/a", "prod-only", "get"},
		{"envs/prod/a", "shared2", "none"},
		{"envs/prod/b", "team", "watch"},
		{"envs/prod/b", "app", "get"},
		// In one file, the last copy wins, as kubectl apply leaves it.
		{"envs/staging", "app", "patch"},
		{"envs/staging", "team", "none"},
		{"envs/staging", "shared", "list"},
		{"envs/staging", "shared2", "get"},
	} {
		if got := verbsOf(viewOf(t, vs, c.view), c.role); got != c.verbs {
			t.Errorf("%s: ClusterRole/%s verbs %s, want %s", c.view, c.role, got, c.verbs)
		}
	}
	var warnings []string
	for _, w := range vs[0].Warnings {
		warnings = append(warnings, w.Error())
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{
		"envs/staging/r.yaml:7:1: ClusterRole/app is also defined at envs/staging/r.yaml:1:1; this later definition is used",
		"envs/staging/r.yaml:7:1: ClusterRole/app is also defined at envs/prod/x.yaml:1:1, in another file set",
		"envs/prod/b/r.yaml:1:1: ClusterRole/team is also defined at envs/prod/a/r.yaml:1:1, in another file set",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning %q in\n%s", want, all)
		}
	}
	if len(warnings) != 3 {
		t.Errorf("%d warnings, want 3, each once:\n%s", len(warnings), all)
	}
}

// TestViewsOneFileSet: copies that no directory parts (one file, or files
// of one directory with no copy between them) make one view, the policy
// Build makes.
func TestViewsOneFileSet(t *testing.T) {
	var b Builder
	for _, o := range parseAt(t, "rbac.yaml", secretsRole("app", "get")+secretsRole("app", "list")) {
		b.Add(o)
	}
	vs := b.Views()
	if len(vs) != 1 || vs[0].Name != "" || verbsOf(vs[0].Policy, "app") != "list" {
		t.Fatalf("views %q, app %s", ViewNames(vs), verbsOf(vs[0].Policy, "app"))
	}
	if len(vs[0].Warnings) != 1 || !strings.Contains(vs[0].Warnings[0].Message, "this later definition is used") {
		t.Errorf("warnings %v", vs[0].Warnings)
	}
}

// TestViewsManyFileSets is adversarial: 2,000 directories each defining
// the same 50 names, beside the built-in roles, make 2,000 views of 50
// objects each, every object added to one view only; the time is that of
// analysing 2,000 small inputs, not of relating each directory to each.
func TestViewsManyFileSets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 2,000 policies")
	}
	const dirs, names = 2000, 50
	var yaml strings.Builder
	for i := range names / 2 {
		yaml.WriteString(secretsRole(fmt.Sprintf("r%d", i), "get"))
		fmt.Fprintf(&yaml, `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b%d, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r%d}
subjects: [{kind: ServiceAccount, name: sa%d, namespace: shop}]
---
`, i, i, i)
	}
	objs := parseAt(t, "x", yaml.String())
	defs, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	start := cputime.Used()
	var b Builder
	b.AddDefaults(defs)
	for d := range dirs {
		for _, o := range objs {
			o.Source.File = fmt.Sprintf("envs/d%04d/rbac.yaml", d)
			b.Add(o)
		}
	}
	vs := b.Views()
	fds := RisksOf(vs)
	cpu := cputime.Used() - start
	if len(vs) != dirs {
		t.Fatalf("%d views, want %d", len(vs), dirs)
	}
	for _, v := range vs {
		if len(v.Bindings)-len(vs[0].Bindings) != 0 || len(v.ClusterRoles) != len(vs[0].ClusterRoles) {
			t.Fatalf("view %s: %d bindings, %d cluster roles; view %s: %d, %d", v.Name, len(v.Bindings), len(v.ClusterRoles), vs[0].Name, len(vs[0].Bindings), len(vs[0].ClusterRoles))
		}
	}
	// Each directory's bindings read Secrets, each reported once at its
	// own place.
	secrets := map[string]int{}
	for _, f := range fds {
		if f.CheckID == SecretsRead.ID {
			secrets[f.Location.File]++
		}
	}
	if len(secrets) != dirs || secrets["envs/d0000/rbac.yaml"] != names/2 {
		t.Errorf("secrets-read findings in %d files (%d in d0000), want %d files of %d", len(secrets), secrets["envs/d0000/rbac.yaml"], dirs, names/2)
	}
	t.Logf("%d objects, %d views, %d findings: %v CPU", dirs*names, len(vs), len(fds), cpu)
	if cpu > 60*time.Second {
		t.Errorf("%v CPU: no longer linear in the number of file sets", cpu)
	}
}

// TestViewsNamespacelessWarnedOnce: the warning that the input looks
// written for kubectl apply -n is about the whole input, given once, not
// once per file set with each set's count.
func TestViewsNamespacelessWarnedOnce(t *testing.T) {
	binding := func(ns string) string {
		return `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: app, namespace: ` + ns + `}]
---
`
	}
	var b Builder
	for _, f := range []struct{ name, yaml string }{
		{"envs/prod/rbac.yaml", binding("argocd")},
		{"envs/staging/rbac.yaml", binding("argocd") + secretsRole("extra", "get")},
	} {
		for _, o := range parseAt(t, f.name, f.yaml) {
			b.Add(o)
		}
	}
	vs := b.Views()
	if len(vs) != 2 {
		t.Fatalf("views %s", ViewNames(vs))
	}
	n := 0
	for _, w := range vs[0].Warnings {
		if strings.Contains(w.Message, "looks namespace-less") {
			n++
			if !strings.Contains(w.Message, "2 namespaced objects") {
				t.Errorf("warning counts another input: %s", w.Message)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d namespace-less warnings, want 1: %v", n, vs[0].Warnings)
	}
}

// TestViewsNeverMerge checks, over random trees of files defining a few
// names, what views promise: no view holds objects of two separate file
// sets, and every object is in a view, or replaced there by a later copy
// of its own file set.
func TestViewsNeverMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	for round := range 300 {
		type def struct{ file, name string }
		var defs []def
		var b Builder
		for range 1 + r.IntN(12) {
			var path []string
			for range 1 + r.IntN(3) {
				path = append(path, fmt.Sprintf("d%d", r.IntN(3)))
			}
			file := strings.Join(path, "/") + fmt.Sprintf("/f%d.yaml", r.IntN(2))
			for range 1 + r.IntN(3) {
				name := fmt.Sprintf("r%d", r.IntN(4))
				defs = append(defs, def{file, name})
				for _, o := range parseAt(t, file, secretsRole(name, "get")) {
					b.Add(o)
				}
			}
		}
		vs := b.Views()
		sets := vs[0].sets
		in := map[def]bool{} // the definitions some view holds
		for _, v := range vs {
			var files []string
			for name, role := range v.ClusterRoles {
				files = append(files, role.Origin.Source.File)
				in[def{role.Origin.Source.File, name}] = true
			}
			for _, a := range files {
				for _, c := range files {
					if sets != nil && sets.Separate(a, c) {
						t.Fatalf("round %d: view %q holds %s and %s, of separate file sets", round, v.Name, a, c)
					}
				}
			}
		}
		for i, d := range defs {
			if in[d] {
				continue
			}
			replaced := false
			for _, later := range defs[i+1:] {
				if later.name == d.name && in[later] && (sets == nil || !sets.Separate(d.file, later.file)) {
					replaced = true
				}
			}
			if !replaced {
				t.Fatalf("round %d: ClusterRole %s of %s is in no view (views %s)", round, d.name, d.file, ViewNames(vs))
			}
		}
	}
}
