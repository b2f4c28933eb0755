package rbac

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pathsYAML is a cluster with one escalation of each kind.
const pathsYAML = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: god}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
- {nonResourceURLs: ["*"], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: deployer}
rules:
- {apiGroups: [apps], resources: [deployments], verbs: [create, get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-deploys, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployer}
subjects: [{kind: User, name: alice}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci, namespace: team-a}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: ServiceAccount, name: ci, namespace: team-a}, {kind: User, name: frank}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects: [{kind: User, name: bob}]
---
apiVersion: v1
kind: Secret
metadata:
  name: robot-token
  namespace: ops
  annotations: {kubernetes.io/service-account.name: robot}
type: kubernetes.io/service-account-token
data: {token: c2VjcmV0}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: group-impersonator}
rules:
- {apiGroups: [""], resources: [groups], verbs: [impersonate]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: robot-impersonates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: group-impersonator}
subjects: [{kind: ServiceAccount, name: robot, namespace: ops}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: user-impersonator}
rules:
- {apiGroups: [""], resources: [users], verbs: [impersonate], resourceNames: [carol]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: support-impersonates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: user-impersonator}
subjects: [{kind: Group, name: support}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: role-escalator}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: carol-escalates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: role-escalator}
subjects: [{kind: User, name: carol}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec, namespace: web}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dave-exec, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}
subjects: [{kind: User, name: dave}]
---
# get is enough to exec over WebSocket before v1.35.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-get, namespace: web}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: jo-exec, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec-get}
subjects: [{kind: User, name: jo}]
---
apiVersion: v1
kind: Pod
metadata: {name: frontend, namespace: web}
spec:
  serviceAccountName: frontend
  containers: [{name: web, image: nginx}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kubelet-proxy}
rules:
- {apiGroups: [""], resources: [nodes/proxy], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: frontend-proxy}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubelet-proxy}
subjects: [{kind: ServiceAccount, name: frontend, namespace: web}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: mon}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      serviceAccountName: agent
      containers: [{name: agent, image: agent}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: ServiceAccount, name: agent, namespace: mon}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: erin-views, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: deployer}
subjects: [{kind: User, name: erin}]
---
# A namespace takeover: bind any role in team-b, then run pods as team-b's
# default ServiceAccount, which the group of team-b's ServiceAccounts makes
# an impersonator of everyone.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: binder, namespace: team-b}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: gina-binds, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: binder}
subjects: [{kind: User, name: gina}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: team-b-impersonates}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: group-impersonator}
subjects: [{kind: Group, name: "system:serviceaccounts:team-b"}]
---
# Token request for one named ServiceAccount.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: token, namespace: team-a}
rules:
- {apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [ci]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: hal-tokens, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: token}
subjects: [{kind: User, name: hal}]
---
# Exec rights where the only pod mounts no token lead nowhere.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ivy-exec, namespace: quiet}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: exec-anywhere}
subjects: [{kind: User, name: ivy}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec-anywhere}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
---
apiVersion: v1
kind: Pod
metadata: {name: still, namespace: quiet}
spec:
  serviceAccountName: admin
  automountServiceAccountToken: false
  containers: [{name: c, image: busybox}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: quiet-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: ServiceAccount, name: admin, namespace: quiet}]
---
# System subjects are not starting points.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: system-thing}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}
subjects: [{kind: User, name: "system:kube-thing"}]
`

func TestPaths(t *testing.T) {
	p := build(t, pathsYAML)
	got := map[string][]string{}
	for _, c := range Paths(p) {
		var steps []string
		at := c.Subject
		for i, s := range c.Steps {
			if s.From != at {
				t.Errorf("%s: step %d starts at %s, not %s", c.Subject, i, s.From, at)
			}
			if s.To != nil {
				at = *s.To
			}
			if len(s.Grants) == 0 && s.Action != "is a member of system:masters, which RBAC does not restrict" {
				t.Errorf("%s: step %d has no grant", c.Subject, i)
			}
			steps = append(steps, s.Action)
		}
		if last := c.Steps[len(c.Steps)-1]; last.To != nil {
			t.Errorf("%s: chain does not end in power", c.Subject)
		}
		got[c.Subject.String()] = steps
	}
	want := map[string][]string{
		"User frank":                 {"holds every verb on every resource cluster-wide"},
		"ServiceAccount team-a/ci":   {"holds every verb on every resource cluster-wide"},
		"ServiceAccount mon/agent":   {"holds every verb on every resource cluster-wide"},
		"ServiceAccount quiet/admin": {"holds every verb on every resource cluster-wide"},
		// ops/robot may impersonate groups but no user: the API server
		// refuses that, so neither it nor bob, who reads its token, nor
		// gina, who runs pods as a member of the impersonating group,
		// has a chain.
		"User carol":                  {"escalates: writes any permission into ClusterRole/role-escalator, which ClusterRoleBinding/carol-escalates grants it"},
		"Group support":               {"impersonates User carol", "escalates: writes any permission into ClusterRole/role-escalator, which ClusterRoleBinding/carol-escalates grants it"},
		"User alice":                  {"creates deployments in namespace team-a whose pods run as ServiceAccount team-a/ci", "holds every verb on every resource cluster-wide"},
		"ServiceAccount web/frontend": {"runs commands through the kubelet in DaemonSet/mon/agent, which runs as ServiceAccount mon/agent", "holds every verb on every resource cluster-wide"},
		"User dave": {"execs into Pod/web/frontend, which runs as ServiceAccount web/frontend",
			"runs commands through the kubelet in DaemonSet/mon/agent, which runs as ServiceAccount mon/agent",
			"holds every verb on every resource cluster-wide"},
		"User jo": {"execs into Pod/web/frontend, which runs as ServiceAccount web/frontend",
			"runs commands through the kubelet in DaemonSet/mon/agent, which runs as ServiceAccount mon/agent",
			"holds every verb on every resource cluster-wide"},
		"User erin": {"creates deployments in namespace web whose pods run as ServiceAccount web/frontend",
			"runs commands through the kubelet in DaemonSet/mon/agent, which runs as ServiceAccount mon/agent",
			"holds every verb on every resource cluster-wide"},
		"User hal": {"requests a token for ServiceAccount team-a/ci", "holds every verb on every resource cluster-wide"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chains (-want +got):\n%s", diff)
	}
}

// spreadYAML is a cluster where subjects may create pods in every
// namespace, so that each reaches every ServiceAccount in one move, and a
// few of those ServiceAccounts hold power.
func spreadYAML(namespaces int) string {
	var b strings.Builder
	doc := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("---\n")
	}
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: god}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n")
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: podmaker}\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [create]}\n")
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: imp}\nrules:\n- {apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [sa-1]}\n")
	for i := range namespaces {
		ns := fmt.Sprintf("ns-%03d", i)
		for j := range 3 {
			doc("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-%d, namespace: %s}\n", j, ns)
		}
		doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: deploy, namespace: %s}\nrules:\n- {apiGroups: [apps], resources: [deployments], verbs: [update]}\n", ns)
		// Every seventh namespace's deployers change deployments there;
		// every eleventh namespace's admin (sa-2) holds power.
		if i%7 == 0 {
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: deploy, namespace: %s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deploy}\nsubjects: [{kind: User, name: u-%d}, {kind: ServiceAccount, name: sa-0, namespace: %s}]\n", ns, i, ns)
		}
		if i%11 == 5 {
			doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: god-%s}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}\nsubjects: [{kind: ServiceAccount, name: sa-2, namespace: %s}]\n", ns, ns)
		}
	}
	for k := range 5 {
		doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pm-%d}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podmaker}\nsubjects: [{kind: Group, name: team-%d}]\n", k, k)
	}
	doc("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: imp}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: imp}\nsubjects: [{kind: User, name: u-14}, {kind: User, name: lone}]\n")
	return b.String()
}

// TestPathsShortest holds every chain to the length of the shortest one
// a breadth-first search finds from its subject over every move, each
// spread over a namespace taken as one move to each of its
// ServiceAccounts, and finds no chain where that search finds none.
func TestPathsShortest(t *testing.T) {
	for name, yaml := range map[string]string{"paths": pathsYAML, "spread": spreadYAML(60)} {
		t.Run(name, func(t *testing.T) {
			p := build(t, yaml)
			chains := map[Identity]Chain{}
			for _, c := range Paths(p) {
				chains[c.Subject] = c
			}
			g := newGraph(p, 1)
			an := g.ans.get(0)
			moves := func(id Identity) (targets []Identity, terminal bool) {
				n, created := g.node(id)
				if created {
					g.expand(an, n)
				}
				for _, e := range n.edges {
					targets = append(targets, *e.step.To)
				}
				for _, sp := range n.spread {
					for _, sa := range g.serviceAccounts(sp.ns) {
						if sa != id {
							targets = append(targets, sa)
						}
					}
				}
				for _, gr := range n.groups {
					for _, t := range gr.t.list {
						if t.sa != id {
							targets = append(targets, t.sa)
						}
					}
				}
				return targets, n.terminal != nil
			}
			shortest := func(start Identity) int {
				dist := map[Identity]int{start: 0}
				queue := []Identity{start}
				for len(queue) > 0 {
					id := queue[0]
					queue = queue[1:]
					targets, terminal := moves(id)
					if terminal {
						return dist[id] + 1
					}
					for _, to := range targets {
						if _, ok := dist[to]; !ok {
							dist[to] = dist[id] + 1
							queue = append(queue, to)
						}
					}
				}
				return 0
			}
			starts := 0
			for _, b := range p.Bindings {
				for i := range b.Subjects {
					id, ok := b.Identity(i)
					if !ok || id.System() {
						continue
					}
					starts++
					want := shortest(id)
					if got := len(chains[id].Steps); got != want {
						t.Errorf("%s: chain of %d steps, want %d", id, got, want)
					}
				}
			}
			if len(chains) < 5 || len(chains) == starts {
				t.Errorf("%d chains of %d subjects: the cluster does not test both cases", len(chains), starts)
			}
		})
	}
}

// BenchmarkPathsSpread runs the escalation graph on a cluster where a few
// subjects may create pods in each of 2,000 namespaces: each reaches
// every one of the 6,000 ServiceAccounts in a move.
func BenchmarkPathsSpread(b *testing.B) {
	p := build(b, spreadYAML(2000))
	b.ReportAllocs()
	for b.Loop() {
		Paths(p)
	}
}

// chainYAML is a chain of n hops: the ServiceAccount of ns-i may create
// pods in ns-i+1, and the last one is a god.
func chainYAML(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: god}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n---\n")
	b.WriteString("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: podmaker}\nrules:\n- {apiGroups: [''], resources: [pods], verbs: [create]}\n---\n")
	for i := range n + 1 {
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-%d, labels: {pod-security.kubernetes.io/enforce: restricted}}\n---\n", i)
		if i < n {
			fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: next, namespace: ns-%d}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: podmaker}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: ns-%d}]\n---\n", i+1, i)
		} else {
			fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: god}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: god}\nsubjects: [{kind: ServiceAccount, name: sa, namespace: ns-%d}]\n---\n", i)
		}
	}
	return b.String()
}

// TestHopsLinear holds the hops of a long chain to one per identity, each
// with its distance, where the chains they spell out hold n(n+1)/2 steps.
func TestHopsLinear(t *testing.T) {
	const n = 1500
	p := build(t, chainYAML(n))
	hops := Hops(p)
	if len(hops) != n+1 {
		t.Fatalf("%d hops, want one per ServiceAccount of the chain (%d)", len(hops), n+1)
	}
	seen := map[Identity]bool{}
	for _, h := range hops {
		if seen[h.Subject] {
			t.Errorf("%s reported twice", h.Subject)
		}
		seen[h.Subject] = true
		var i int
		fmt.Sscanf(h.Subject.Namespace, "ns-%d", &i)
		if !h.Start || h.Distance != n-i+1 {
			t.Errorf("%s: start %v, distance %d, want %d", h.Subject, h.Start, h.Distance, n-i+1)
		}
	}
	// The chains are still there to follow.
	steps := 0
	for _, c := range Chains(hops) {
		steps += len(c.Steps)
	}
	if want := (n + 1) * (n + 2) / 2; steps != want {
		t.Errorf("chains spell out %d steps, want %d", steps, want)
	}
}
