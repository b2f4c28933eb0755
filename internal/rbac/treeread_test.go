package rbac_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/rbac/rbactest"
)

// treeReadDocs are roles and bindings in the shapes the tree readers take
// and in those they must leave to the general decoder.
var treeReadDocs = []string{
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: a}\nrules:\n- verbs: [get, list]\n  apiGroups: [\"\"]\n  resources: [pods, pods/log]\n  resourceNames: ['x']\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: c\n  labels: {a: \"true\"}\nrules:\n- nonResourceURLs: [\"/healthz\", \"/api/*\"]\n  verbs: [\"*\"]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: empty}\nrules: []\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: none}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: nullrules}\nrules:\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: nullitem}\nrules:\n- \n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: emptylists}\nrules:\n- verbs: []\n  resources:\n  apiGroups: ~\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: words}\nrules:\n- verbs: [yes, no, true, off, null, Null, on]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: numbers}\nrules:\n- verbs: [1, 0x10, 1.5, .inf, -.inf, .nan, 2024-01-01]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: tagged}\nrules:\n- verbs: [!!str 1, !!int \"2\"]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: block}\nrules:\n- verbs:\n  - |\n    get\n  - >-\n    list\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: anchors}\nrules:\n- verbs: &v [get]\n- verbs: *v\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: merge}\nx: &x {verbs: [get]}\nrules:\n- <<: *x\n  resources: [pods]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: dup}\nrules:\n- verbs: [get]\n  verbs: [list]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: case}\nrules:\n- Verbs: [get]\n  verbs: [list]\n  extra: {a: [1, 2]}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: wrong}\nrules:\n- verbs: get\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: wrong2}\nrules: {verbs: [get]}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: nested}\nrules:\n- verbs: [[get]]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: inf}\nspec: {x: .inf}\nrules:\n- verbs: [get]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\naggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {a: \"true\"}\nrules: []\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: \"quoted\"}\n\"rules\":\n- \"verbs\": ['get', \"li\\u0073t\"]\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}\n- {kind: ServiceAccount, name: default, namespace: a}\n- {kind: Group, name: system:masters}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: cluster-admin}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: 1}\nsubjects: []\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef:\nsubjects:\n- {kind: User, name: true}\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: [x]\nsubjects:\n- kind: User\n  name: bob\n  name: eve\n",
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, annotations: {x: -1, y: +2, z: \"é\"}}\nroleRef: {kind: Role, name: r, Name: s}\nsubjects:\n- {kind: User, name: \"\", other: {deep: [1, {a: b}]}}\n",
}

// checkTreeRead decodes every object of doc both ways and compares.
func checkTreeRead(t *testing.T, doc string) {
	t.Helper()
	for _, d := range manifest.Split([]byte(doc)) {
		objs, _ := manifest.Parse("x.yaml", d)
		for _, o := range objs {
			wantRole, wantBinding, wantErr := rbac.DecodeGeneral(o).Contents()
			gotRole, gotBinding, gotErr := rbac.Decode(o).Contents()
			opts := cmp.Options{
				cmpopts.IgnoreUnexported(rbac.Role{}, rbac.Binding{}),
				rbac.CompareOrigins,
			}
			if diff := cmp.Diff(wantRole, gotRole, opts); diff != "" {
				t.Errorf("%s: role differs from the general decoder's (-general +tree):\n%s", o.Ref, diff)
			}
			if diff := cmp.Diff(wantBinding, gotBinding, opts); diff != "" {
				t.Errorf("%s: binding differs from the general decoder's (-general +tree):\n%s", o.Ref, diff)
			}
			if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
				t.Errorf("%s: error %v, the general decoder's %v", o.Ref, gotErr, wantErr)
			}
		}
	}
}

// TestTreeReadMatchesDecode holds the tree readers of roles and bindings
// to the general decoder, on the cases above and a generated cluster.
func TestTreeReadMatchesDecode(t *testing.T) {
	for _, doc := range treeReadDocs {
		checkTreeRead(t, doc)
	}
	o := rbactest.Small
	checkTreeRead(t, string(rbactest.Generate(o).YAML()))
}

// FuzzTreeReadMatchesDecode holds the tree readers to the general decoder
// on arbitrary documents.
func FuzzTreeReadMatchesDecode(f *testing.F) {
	for _, doc := range treeReadDocs {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkTreeRead(t, doc)
	})
}
