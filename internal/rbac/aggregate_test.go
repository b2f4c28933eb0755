package rbac

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeguard/kubeguard/internal/cputime"
)

// rulesOf renders a ClusterRole's effective rules, with their sources.
func rulesOf(p *Policy, name string) []string {
	r := p.ClusterRoles[name]
	var out []string
	for i := range r.Rules {
		s := RuleString(&r.Rules[i])
		if src := r.Sources[i]; src.Role != r {
			s += fmt.Sprintf(" from %s[%d]", src.Role.Name, src.Index)
		}
		out = append(out, s)
	}
	return out
}

func clusterRole(name, labels, body string) string {
	return fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %s\n  labels: {%s}\n%s\n---\n", name, labels, body)
}

func TestAggregation(t *testing.T) {
	const (
		get    = `{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}`
		list   = `{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}`
		secret = `{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}`
	)
	for _, tc := range []struct {
		name   string
		yaml   string
		role   string
		want   []string
		errors []string
	}{{
		name: "selected roles in name order, self excluded, duplicates dropped",
		yaml: clusterRole("agg", "agg: \"true\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {agg: \"true\"}") +
			clusterRole("b", "agg: \"true\"", "rules:\n- {verbs: [list], apiGroups: [\"\"], resources: [pods]}\n- {verbs: [get], apiGroups: [\"\"], resources: [pods]}") +
			clusterRole("a", "agg: \"true\"", "rules:\n- {verbs: [get], apiGroups: [\"\"], resources: [pods]}") +
			clusterRole("c", "agg: \"false\"", "rules:\n- {verbs: [get], apiGroups: [\"\"], resources: [secrets]}"),
		role: "agg",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from a[0]`, `{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from b[0]`},
	}, {
		name: "manifest rules are replaced",
		yaml: clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {x: v}\nrules:\n- "+secret) +
			clusterRole("a", "x: v", "rules:\n- "+get),
		role: "agg",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from a[0]`},
	}, {
		// The controller applies an empty result without a rules field,
		// which leaves the rules the role was created with.
		name:   "no selectors: the manifest's rules stay",
		yaml:   clusterRole("agg", "", "aggregationRule: {}\nrules:\n- "+secret),
		role:   "agg",
		want:   []string{`{verbs: ["get"], apiGroups: [""], resources: ["secrets"]}`},
		errors: []string{"ClusterRole/agg: an aggregationRule needs at least one clusterRoleSelector; the API server rejects it"},
	}, {
		name: "nothing selected: the manifest's rules stay",
		yaml: clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {x: v}\nrules:\n- "+secret) +
			clusterRole("a", "x: v", "") + clusterRole("b", "x: w", "rules:\n- "+get),
		role: "agg",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["secrets"]}`},
	}, {
		name:   "no selectors, no rules",
		yaml:   clusterRole("agg", "", "aggregationRule: {}"),
		role:   "agg",
		want:   nil,
		errors: []string{"ClusterRole/agg: an aggregationRule needs at least one clusterRoleSelector; the API server rejects it"},
	}, {
		// An aggregated role in the middle keeps its own rules when it
		// aggregates nothing, and passes them on.
		name: "nested, inner aggregates nothing",
		yaml: clusterRole("a-outer", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-outer: \"true\"}") +
			clusterRole("b-inner", "to-outer: \"true\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-inner: \"true\"}\nrules:\n- "+list),
		role: "a-outer",
		want: []string{`{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from b-inner[0]`},
	}, {
		name: "empty selector selects every other role",
		yaml: clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - {}") +
			clusterRole("a", "", "rules:\n- "+get) + clusterRole("b", "x: v", "rules:\n- "+list),
		role: "agg",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from a[0]`, `{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from b[0]`},
	}, {
		name: "selectors in order, each in name order",
		yaml: clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {second: \"1\"}\n  - matchLabels: {first: \"1\"}") +
			clusterRole("a", "first: \"1\"", "rules:\n- "+get) + clusterRole("z", "second: \"1\"", "rules:\n- "+list),
		role: "agg",
		want: []string{`{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from z[0]`, `{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from a[0]`},
	}, {
		name: "matchExpressions",
		yaml: clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchExpressions: [{key: tier, operator: In, values: [x, w]}]") +
			clusterRole("a", "tier: x", "rules:\n- "+get) + clusterRole("b", "tier: z", "rules:\n- "+list),
		role: "agg",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from a[0]`},
	}, {
		// admin aggregates edit, which aggregates itself: the shape of the
		// built-in admin/edit/view roles. The outer role sorts first, so a
		// single pass in name order would miss the inner role's rules.
		name: "nested aggregation",
		yaml: clusterRole("a-admin", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-admin: \"true\"}") +
			clusterRole("m-edit", "to-admin: \"true\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-edit: \"true\"}") +
			clusterRole("z-edit-leaf", "to-edit: \"true\"", "rules:\n- "+list) +
			clusterRole("b-admin-leaf", "to-admin: \"true\"", "rules:\n- "+secret),
		role: "a-admin",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["secrets"]} from b-admin-leaf[0]`, `{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from z-edit-leaf[0]`},
	}, {
		name: "three levels",
		yaml: clusterRole("l1", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to: l1}") +
			clusterRole("l2", "to: l1", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to: l2}") +
			clusterRole("l3", "to: l2", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to: l3}") +
			clusterRole("leaf", "to: l3", "rules:\n- "+get),
		role: "l1",
		want: []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from leaf[0]`},
	}, {
		name:   "invalid selector keeps the manifest's rules",
		yaml:   clusterRole("agg", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchExpressions: [{key: tier, operator: Sometimes}]\nrules:\n- "+secret),
		role:   "agg",
		want:   []string{`{verbs: ["get"], apiGroups: [""], resources: ["secrets"]}`},
		errors: []string{`ClusterRole/agg: aggregationRule.clusterRoleSelectors[0]: "Sometimes" is not a valid label selector operator; the API server rejects it, and the aggregation controller would fail on it`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := build(t, tc.yaml)
			if diff := cmp.Diff(tc.want, rulesOf(p, tc.role)); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			var errs []string
			for _, e := range p.Problems {
				errs = append(errs, e.Message)
			}
			if diff := cmp.Diff(tc.errors, errs); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAggregationAuthorizes checks that a binding to an aggregated role
// grants the aggregated rules, and names the role they come from.
func TestAggregationAuthorizes(t *testing.T) {
	p := build(t, clusterRole("admin", "", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-admin: \"true\"}")+
		clusterRole("edit", "to-admin: \"true\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-edit: \"true\"}")+
		clusterRole("widgets-edit", "to-edit: \"true\"", "rules:\n- {verbs: [create], apiGroups: [example.com], resources: [widgets]}")+`
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-admin, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: User, name: alice}]
`)
	d := NewAuthorizer(p).Decide(Authenticated("alice"), Attributes{Verb: "create", ResourceRequest: true, Namespace: "team", APIGroup: "example.com", Resource: "widgets"})
	if !d.Allowed {
		t.Fatal("aggregated rule not granted")
	}
	if got, want := d.Grants[0].String(), "RoleBinding/team/alice-admin → ClusterRole/admin rules[0] (aggregated from ClusterRole/widgets-edit rules[0])"; got != want {
		t.Errorf("grant %q, want %q", got, want)
	}
}

func TestAggregationCycle(t *testing.T) {
	// a and b select each other. Whichever the controller syncs first, a
	// keeps the rule it was created with (b has none to give it, and an
	// empty result writes nothing) and b takes it from a: both settle on
	// a's rule and the cycle ends.
	p := build(t, clusterRole("a", "to-b: \"1\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-a: \"1\"}\nrules:\n- {verbs: [get], apiGroups: [\"\"], resources: [pods]}")+
		clusterRole("b", "to-a: \"1\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-b: \"1\"}"))
	want := []string{`{verbs: ["get"], apiGroups: [""], resources: ["pods"]}`}
	if diff := cmp.Diff(want, rulesOf(p, "a")); diff != "" {
		t.Errorf("a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{want[0] + " from a[0]"}, rulesOf(p, "b")); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %v", p.Warnings)
	}
}

// TestAggregationMutualIsLinear: 1,000 ClusterRoles that each select all
// the others (465 KB) took 30 s and 1.8 GB when the controller's passes
// were repeated until nothing changed, and 2,000 did not finish. Each
// must end with every role's rule, aggregated once.
func TestAggregationMutualIsLinear(t *testing.T) {
	const n = 1000
	var b strings.Builder
	for i := range n {
		b.WriteString(clusterRole(fmt.Sprintf("r%04d", i), `agg: "true"`,
			fmt.Sprintf("aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {agg: \"true\"}\nrules:\n- {verbs: [get], apiGroups: [\"\"], resources: [res%d]}", i)))
	}
	start := cputime.Used()
	p := build(t, b.String())
	if d := cputime.Used() - start; d > 10*time.Second {
		t.Errorf("building the policy took %s of CPU", d)
	}
	for _, name := range []string{"r0000", "r0500", "r0999"} {
		if got := len(p.ClusterRoles[name].Rules); got != n {
			t.Errorf("%s has %d rules, want %d", name, got, n)
		}
	}
	if len(p.Warnings) != n {
		t.Errorf("%d warnings, want one per role of the cycle", len(p.Warnings))
	}
}

// TestAggregationCycleWithOutsideRules: roles that select each other and
// a leaf each settle on the leaves' rules;
// the rules they were created with are replaced, and nothing is reported.
func TestAggregationCycleWithOutsideRules(t *testing.T) {
	p := build(t, clusterRole("a", "to-b: \"1\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-a: \"1\"}\nrules:\n- {verbs: [delete], apiGroups: [\"\"], resources: [pods]}")+
		clusterRole("b", "to-a: \"1\"", "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {to-b: \"1\"}")+
		clusterRole("leaf-a", "to-a: \"1\"", "rules:\n- {verbs: [get], apiGroups: [\"\"], resources: [pods]}")+
		clusterRole("leaf-b", "to-b: \"1\"", "rules:\n- {verbs: [list], apiGroups: [\"\"], resources: [pods]}"))
	get, list := `{verbs: ["get"], apiGroups: [""], resources: ["pods"]} from leaf-a[0]`, `{verbs: ["list"], apiGroups: [""], resources: ["pods"]} from leaf-b[0]`
	if diff := cmp.Diff([]string{get, list}, rulesOf(p, "a")); diff != "" {
		t.Errorf("a (-want +got):\n%s", diff)
	}
	// b selects a first, which brings what the cycle shares in the
	// cycle's order.
	if diff := cmp.Diff([]string{get, list}, rulesOf(p, "b")); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings: %v", p.Warnings)
	}
}
