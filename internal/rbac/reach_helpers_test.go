package rbac

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// reachOptions size the cluster reachYAML writes.
type reachOptions struct {
	// Users are each bound, by a ClusterRoleBinding of their own, to one
	// of the ClusterRoles of reachRoles in turn.
	Users int
	// Namespaces each hold ServiceAccounts ServiceAccounts, Pods Pods
	// running as them in turn (on Nodes nodes, in turn across the
	// cluster), and Secrets legacy token Secrets of them.
	Namespaces, ServiceAccounts, Pods, Secrets, Nodes int
	// Roles are the ClusterRoles the users are bound to in turn; empty
	// means all of reachRoles.
	Roles []string
}

// reachRoles are the ClusterRoles of a reachYAML cluster, each holding one
// permission that reaches the ServiceAccounts of running pods or of token
// Secrets cluster-wide.
var reachRoles = map[string]string{
	"exec":      "- {apiGroups: [''], resources: [pods/exec], verbs: [create, get]}",
	"attach":    "- {apiGroups: [''], resources: [pods/attach], verbs: [create, get]}",
	"ephemeral": "- {apiGroups: [''], resources: [pods/ephemeralcontainers], verbs: [update, patch]}",
	"update":    "- {apiGroups: [''], resources: [pods], verbs: [update, patch]}",
	"proxy":     "- {apiGroups: [''], resources: [nodes/proxy], verbs: [get, create]}",
	"webhook":   "- {apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create]}",
	"secrets":   "- {apiGroups: [''], resources: [secrets], verbs: [get]}",
	// Every ServiceAccount, whether a pod runs as it or not.
	"impersonate": "- {apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate]}",
	"token":       "- {apiGroups: [''], resources: [serviceaccounts/token], verbs: [create]}",
	// The named forms: one Pod, one node, one Secret name in every
	// namespace.
	"exec-named":    "- {apiGroups: [''], resources: [pods/exec], verbs: [create], resourceNames: [pod-00001]}",
	"proxy-named":   "- {apiGroups: [''], resources: [nodes/proxy], verbs: [get], resourceNames: [node-001, node-002]}",
	"secrets-named": "- {apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [token-001]}",
}

// reachYAML writes, as one multi-document YAML file, the adversarial cluster
// of the escalation graph: many users, each holding one permission that
// reaches every running pod's (or every token Secret's) ServiceAccount,
// over many pods, so that a pass over the workloads per identity costs
// users × pods. The last namespace's first ServiceAccount is bound to a
// god role, so that the users whose permission reaches it have a chain
// (the named forms reach other ServiceAccounts). Every namespace enforces the
// restricted Pod Security level.
func reachYAML(o reachOptions) []byte {
	roles := o.Roles
	if len(roles) == 0 {
		roles = []string{"exec", "attach", "ephemeral", "update", "proxy", "webhook", "secrets", "exec-named", "proxy-named", "secrets-named"}
	}
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("---\n")
	}
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: god}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n")
	for _, r := range roles {
		doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reach-%s}\nrules:\n%s\n", r, reachRoles[r])
	}
	for i := range o.Users {
		doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: user-%05d}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reach-%s}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: user-%05d}]\n",
			i, roles[i%len(roles)], i)
	}
	pod := 0
	for i := range o.Namespaces {
		ns := fmt.Sprintf("ns-%04d", i)
		doc("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels: {pod-security.kubernetes.io/enforce: restricted}\n", ns)
		for s := range o.ServiceAccounts {
			doc("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-%03d, namespace: %s}\n", s, ns)
		}
		for s := range o.Secrets {
			doc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: token-%03d\n  namespace: %s\n  annotations: {kubernetes.io/service-account.name: sa-%03d}\ntype: kubernetes.io/service-account-token\n",
				s, ns, s%max(o.ServiceAccounts, 1))
		}
		for p := range o.Pods {
			doc("apiVersion: v1\nkind: Pod\nmetadata: {name: pod-%05d, namespace: %s}\nspec:\n  serviceAccountName: sa-%03d\n  nodeName: node-%03d\n  containers:\n  - {name: app, image: registry.example/app:1}\n",
				p, ns, p%max(o.ServiceAccounts, 1), pod%max(o.Nodes, 1))
			pod++
		}
	}
	if o.Namespaces > 0 {
		doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: god}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}\nsubjects: [{kind: ServiceAccount, name: sa-000, namespace: ns-%04d}]\n", o.Namespaces-1)
	}
	return []byte(b.String())
}

var (
	reachOut   = flag.String("reach-out", "", "write the adversarial cluster of TestWriteReach to `file`")
	reachScale = flag.Int("reach-scale", 1, "divide the users and namespaces of TestWriteReach's cluster by `n`")
)

// TestWriteReach writes the adversarial cluster for whole-program runs
// (see BENCHMARKS.md):
//
//	go test ./internal/rbac -run TestWriteReach -reach-out /tmp/reach.yaml
//
// 2,000 users, 500 namespaces of 10 ServiceAccounts, 40 Pods on 200
// nodes and 10 token Secrets each: 20,000 Pods.
func TestWriteReach(t *testing.T) {
	if *reachOut == "" {
		t.Skip("no -reach-out")
	}
	data := reachYAML(reachOptions{Users: 2000 / *reachScale, Namespaces: 500 / *reachScale, ServiceAccounts: 10, Pods: 40, Secrets: 10, Nodes: 200})
	if err := os.WriteFile(*reachOut, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHopsReachLinear holds the escalation graph of many identities that
// reach every running pod's ServiceAccount (exec, attach, ephemeral
// containers, pod updates, nodes/proxy, mutating webhooks, token Secrets,
// each also limited by names) to work linear in the input: doubling both
// the users and the namespaces of pods doubles the input, and must not
// quadruple the allocations, as a move per identity and per pod did.
func TestHopsReachLinear(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roles []string
		// chains is the number of users in ten that have a chain (to
		// ns-last's sa-000, bound to god).
		chains int
	}{
		// Not the users of exec-named, proxy-named and secrets-named,
		// whose Pod, nodes and Secret are other ServiceAccounts'.
		{name: "pods and secrets", chains: 7},
		{name: "impersonate and token", roles: []string{"impersonate", "token"}, chains: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := func(scale int) (float64, int) {
				p := build(t, string(reachYAML(reachOptions{Users: 100 * scale, Namespaces: 25 * scale, ServiceAccounts: 10, Pods: 40, Secrets: 10, Nodes: 50, Roles: tc.roles})))
				var hops []Hop
				n := testing.AllocsPerRun(1, func() { hops = Hops(p) })
				users := 0
				for _, h := range hops {
					if h.Start && h.Subject.Kind == rbacv1.UserKind {
						users++
					}
				}
				return n, users
			}
			small, us := allocs(1)
			large, ul := allocs(2)
			if us != 10*tc.chains || ul != 20*tc.chains {
				t.Fatalf("%d and %d users with a chain, want %d and %d", us, ul, 10*tc.chains, 20*tc.chains)
			}
			t.Logf("allocations: %.0f, then %.0f for twice the input", small, large)
			if ratio := large / small; ratio > 2.8 {
				t.Errorf("allocations grow %.2f times for twice the input (%.0f to %.0f): not linear", ratio, small, large)
			}
		})
	}
}
