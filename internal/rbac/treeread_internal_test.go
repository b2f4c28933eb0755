package rbac

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// TestTreeReadTakes checks which shapes the tree readers take themselves:
// the plain ones manifests are written in; the others go to the general
// decoder (TestTreeReadMatchesDecode checks that both agree).
func TestTreeReadTakes(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      bool
	}{
		{"role", "kind: Role\nrules:\n- verbs: [get, list]\n  apiGroups: [\"\"]\n  resources: [pods]\n  resourceNames: ['x']\n", true},
		{"no rules", "kind: ClusterRole\nmetadata: {name: c, labels: {a: \"true\"}, annotations: {b: \"1\"}}\n", true},
		{"empty rules", "kind: ClusterRole\nrules: []\n", true},
		{"unknown fields", "kind: ClusterRole\nrules:\n- Verbs: [get]\n  extra: {a: [1, 2]}\n", true},
		{"binding", "kind: RoleBinding\nroleRef: {kind: Role, name: r}\nsubjects:\n- {kind: User, name: system:alice}\n", true},
		{"null rules", "kind: ClusterRole\nrules:\n", false},
		{"boolean word", "kind: ClusterRole\nrules:\n- verbs: [on]\n", false},
		{"number", "kind: ClusterRole\nrules:\n- verbs: [1]\n", false},
		{"infinity elsewhere", "kind: ClusterRole\nx: .inf\nrules: []\n", false},
		{"tag", "kind: ClusterRole\nrules:\n- verbs: [!!str get]\n", false},
		{"alias", "kind: ClusterRole\nrules:\n- verbs: &v [get]\n- verbs: *v\n", false},
		{"duplicate key", "kind: ClusterRole\nrules:\n- verbs: [get]\n  verbs: [list]\n", false},
		{"aggregation", "kind: ClusterRole\naggregationRule: {clusterRoleSelectors: []}\n", false},
		{"binding name a word", "kind: RoleBinding\nroleRef: {kind: Role, name: yes}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, err := manifest.ParseYAML([]byte("apiVersion: rbac.authorization.k8s.io/v1\n" + tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			o, err := object.New(root, finding.Location{File: "x.yaml"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			if o.Ref.Kind == KindRoleBinding {
				_, _, ok = readBinding(o.Field(object.Path{}))
			} else {
				_, ok = readRules(o.Field(object.Path{}))
			}
			if ok != tc.want {
				t.Errorf("read from the tree: %v, want %v", ok, tc.want)
			}
		})
	}
}

// TestTreeReadManyKeysIsLinear: the tree reader looked for duplicate keys
// pairwise, quadratic in a rule of 40,000 (unknown) fields, about as many
// as its 1 MiB budget takes.
func TestTreeReadManyKeysIsLinear(t *testing.T) {
	for _, dup := range []bool{false, true} {
		var b strings.Builder
		b.WriteString("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nrules:\n- verbs: [get]\n")
		for i := range 40000 {
			fmt.Fprintf(&b, "  k%d: x\n", i)
		}
		if dup {
			b.WriteString("  k0: y\n")
		}
		root, err := manifest.ParseYAML([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		o, err := object.New(root, finding.Location{File: "x.yaml"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		start := cputime.Used()
		_, ok := readRules(o.Field(object.Path{}))
		if d := cputime.Used() - start; d > 3*time.Second {
			t.Errorf("reading a rule of 40,000 fields took %s of CPU", d)
		}
		if ok == dup {
			t.Errorf("duplicate %v: read from the tree %v", dup, ok)
		}
	}
}
