package rbac

import (
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
		"User frank":                  {"holds every verb on every resource cluster-wide"},
		"ServiceAccount team-a/ci":    {"holds every verb on every resource cluster-wide"},
		"ServiceAccount mon/agent":    {"holds every verb on every resource cluster-wide"},
		"ServiceAccount quiet/admin":  {"holds every verb on every resource cluster-wide"},
		"ServiceAccount ops/robot":    {"impersonates group system:masters"},
		"User carol":                  {"escalates: writes any permission into a ClusterRole bound to it"},
		"Group support":               {"impersonates User carol", "escalates: writes any permission into a ClusterRole bound to it"},
		"User alice":                  {"creates deployments in namespace team-a whose pods run as ServiceAccount team-a/ci", "holds every verb on every resource cluster-wide"},
		"User bob":                    {"reads token Secret ops/robot-token of ServiceAccount ops/robot", "impersonates group system:masters"},
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
		"User gina": {"binds any role to itself in namespace team-b, then runs pods as ServiceAccount team-b/default",
			"impersonates group system:masters"},
		"User hal": {"requests a token for ServiceAccount team-a/ci", "holds every verb on every resource cluster-wide"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chains (-want +got):\n%s", diff)
	}
}
