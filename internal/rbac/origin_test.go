package rbac_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

// originDocs are inputs whose findings and grants point at every kind of
// field the analysis reports on: wildcards, subjects, roleRef and its name,
// a ClusterRoleBinding's kind, a workload's serviceAccountName, set and
// not (then its pod spec).
const originDocs = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: wide}
rules:
- verbs: [get]
  resources: [pods]
  apiGroups: [""]
- apiGroups: [""]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: wide}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: wide}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: system:authenticated}
- {kind: ServiceAccount, name: runner, namespace: apps}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: gone}
roleRef: {kind: ClusterRole, name: not-there}
subjects: [{kind: Group, name: system:masters}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pods}
rules: [{verbs: [get], apiGroups: [""], resources: [pods]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pods}
roleRef: {kind: ClusterRole, name: pods}
subjects: [{kind: User, name: bob}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: named, namespace: apps}
spec:
  template:
    spec:
      serviceAccountName: runner
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: unnamed, namespace: apps}
spec:
  containers: [{name: c, image: x}]
`

// TestOriginLocatesReports holds the positions Decode records to those
// the object gives for the same fields: every finding's location must be
// the one of its path in its object, and every grant's rule location the
// one of its rule, so that no report points at a field Decode did not
// record.
func TestOriginLocatesReports(t *testing.T) {
	withWorkloads := rbactest.Small
	withWorkloads.Workloads = 40
	for name, yaml := range map[string][]byte{
		"fields":    []byte(originDocs),
		"generated": rbactest.Generate(withWorkloads).YAML(),
	} {
		t.Run(name, func(t *testing.T) {
			objs := parseYAML(t, yaml)
			byRef := map[finding.ObjectRef]*object.Object{}
			for _, o := range objs {
				byRef[o.Ref] = o
			}
			p := build(objs)
			found := rbac.Risks(p)
			if len(found) == 0 {
				t.Fatal("no findings")
			}
			for _, f := range found {
				o := byRef[f.Object]
				path, err := object.ParsePath(f.Path)
				if o == nil || err != nil {
					t.Fatalf("finding %s on %s at %q: no such object or path (%v)", f.CheckID, f.Object, f.Path, err)
				}
				want, _ := o.Locate(path)
				if diff := cmp.Diff(want, f.Location); diff != "" {
					t.Errorf("finding %s on %s at %s (-object +finding):\n%s", f.CheckID, f.Object, f.Path, diff)
				}
			}
			for _, b := range p.Bindings {
				r := b.Role()
				if r == nil {
					continue
				}
				for i := range r.Rules {
					g := rbac.Grant{Binding: b, Role: r, Rule: i}
					src := g.Source()
					got, ok := src.Location()
					want, _ := byRef[src.Role.ObjectRef()].Locate(object.Path{}.Key("rules").Index(src.Index))
					if !ok || got != want {
						t.Errorf("grant %s: rule at %v, the object says %v", g, got, want)
					}
				}
			}
		})
	}
}
