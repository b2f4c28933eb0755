package rbac_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
)

func TestCheckRegistry(t *testing.T) {
	if err := check.Validate(rbac.Checks); err != nil {
		t.Fatal(err)
	}
	for _, c := range rbac.Checks {
		if c.Category != rbac.Category || c.Run != nil || len(c.Kinds) > 0 {
			t.Errorf("check %s: want category %s and no kinds or Run (the analysis runs it)", c.ID, rbac.Category)
		}
		if _, err := os.Stat(c.ID + ".go"); err != nil {
			t.Errorf("check %s: %v", c.ID, err)
		}
	}
}

// TestFixtures runs the RBAC analysis over each fixture on its own, with
// the checktest harness: <id>.yaml must fire <id> where a "# want: <id>"
// comment says, <id>_ok.yaml must fire nothing, and every finding of any
// RBAC check must be expected.
func TestCheckFixtures(t *testing.T) {
	checktest.Fixtures(t, filepath.Join("testdata", "checks"), rbac.Checks, true, func(t *testing.T, path string) []finding.Finding {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var b rbac.Builder
		for _, d := range manifest.Split(data) {
			objs, errs := manifest.Parse(path, d)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, o := range objs {
				b.Add(o)
			}
		}
		p := b.Build()
		for _, e := range append(p.Problems, p.Warnings...) {
			t.Errorf("input problem: %s", e.Error())
		}
		return rbac.Risks(p)
	})
}

// TestPrivilegedTokenNamedSecrets: a workload whose ServiceAccount may
// only get Secrets named by resourceNames (argo-cd's redis) holds the
// narrow grant the good practices recommend: the finding says which
// Secrets and is low, as rbac-secrets-read rates the grant.
func TestPrivilegedTokenNamedSecrets(t *testing.T) {
	const in = `apiVersion: v1
kind: ServiceAccount
metadata: {name: redis, namespace: argocd}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: redis, namespace: argocd}
rules:
- {apiGroups: [""], resources: [secrets], resourceNames: [argocd-redis], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: redis, namespace: argocd}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: redis}
subjects: [{kind: ServiceAccount, name: redis, namespace: argocd}]
---
apiVersion: v1
kind: Pod
metadata: {name: redis, namespace: argocd}
spec:
  serviceAccountName: redis
  containers: [{name: redis, image: redis:7}]
`
	found := false
	for _, f := range rbac.Risks(policyOf(t, in)) {
		if f.CheckID != rbac.PrivilegedTokenWorkload.ID {
			continue
		}
		found = true
		if f.Severity != finding.Low || !strings.Contains(f.Reason, "get secrets named argocd-redis in namespace argocd") {
			t.Errorf("%s: %s", f.Severity, f.Reason)
		}
	}
	if !found {
		t.Error("no finding for the workload")
	}
}

// TestGrantRatedByItsChain: a grant is as severe as the chain to
// cluster-admin it is a move of. Attaching to pods is medium on its own,
// and critical where a pod it reaches runs as a cluster-admin
// ServiceAccount: the move takes the token of cluster-admin power.
func TestGrantRatedByItsChain(t *testing.T) {
	const attach = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: attacher}
rules:
- {apiGroups: [""], resources: [pods/attach], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: attacher, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: attacher}
subjects: [{kind: User, name: dev}]
`
	const powerfulPod = "\n---\n" + clusterAdminRole + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admin-is-god}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: admin, namespace: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app}
spec:
  serviceAccountName: admin
  containers: [{name: web, image: nginx:1.27}]
`
	severityOf := func(in, id string) (finding.Severity, string) {
		t.Helper()
		for _, f := range rbac.Risks(policyOf(t, in)) {
			if f.CheckID == id && f.Object.Name == "attacher" {
				return f.Severity, f.Reason
			}
		}
		t.Fatalf("no %s finding", id)
		return 0, ""
	}
	if sev, reason := severityOf(attach, rbac.PodExec.ID); sev != finding.Medium {
		t.Errorf("attach alone: %s (%s), want medium", sev, reason)
	}
	if sev, reason := severityOf(attach+powerfulPod, rbac.PodExec.ID); sev != finding.Critical || !strings.Contains(reason, "a move on a chain to cluster-admin power, 2 moves from it") {
		t.Errorf("attach to a cluster-admin pod: %s (%s), want critical, on a chain", sev, reason)
	}
}

// TestRefusedBindingNoRisk: a binding the API server refuses (a
// ServiceAccount subject without a namespace in a ClusterRoleBinding, a
// roleRef of another kind) is an input error and never exists, so no risk
// is reported of it.
func TestRefusedBindingNoRisk(t *testing.T) {
	const in = clusterAdminRole + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: no-namespace}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: sa1}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bad-kind, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRolex, name: cluster-admin}
subjects: [{kind: User, name: x}]
`
	p := policyOf(t, in)
	if len(p.Problems) != 2 {
		t.Errorf("input errors %v, want the two refusals", p.Problems)
	}
	for _, f := range rbac.Risks(p) {
		if f.Object.Kind == "ClusterRoleBinding" || f.Object.Kind == "RoleBinding" {
			t.Errorf("risk reported of a refused binding: %s %s %s", f.CheckID, f.Object, f.Reason)
		}
	}
}

// TestImpersonateRatedByTargets: impersonating only named identities is
// as severe as what they hold: medium for a user who holds nothing,
// critical when that user is bound to cluster-admin (one move from power).
func TestImpersonateRatedByTargets(t *testing.T) {
	const in = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: as-alice}
rules:
- {apiGroups: [""], resources: [users], resourceNames: [alice], verbs: [impersonate]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: as-alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: as-alice}
subjects: [{kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}]
`
	const aliceAdmin = "\n---\n" + clusterAdminRole + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
`
	rated := func(in string) finding.Severity {
		t.Helper()
		for _, f := range rbac.Risks(policyOf(t, in)) {
			if f.CheckID == rbac.Impersonate.ID {
				return f.Severity
			}
		}
		t.Fatal("no impersonate finding")
		return 0
	}
	if got := rated(in); got != finding.Medium {
		t.Errorf("impersonating a user who holds nothing: %s, want medium", got)
	}
	if got := rated(in + aliceAdmin); got != finding.Critical {
		t.Errorf("impersonating a cluster-admin user: %s, want critical", got)
	}
}

// policyOf builds the policy of a manifest stream; objects that do not
// parse fail the test, those the API server would refuse stay in
// Problems.
func policyOf(t *testing.T, in string) *rbac.Policy {
	t.Helper()
	var b rbac.Builder
	for _, d := range manifest.Split([]byte(in)) {
		objs, errs := manifest.Parse("in.yaml", d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, o := range objs {
			b.Add(o)
		}
	}
	return b.Build()
}

// clusterAdminRole is the built-in ClusterRole, for tests whose builder
// leaves the built-in roles out.
const clusterAdminRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cluster-admin}
rules:
- {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
`
