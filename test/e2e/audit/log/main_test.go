// Package log holds kubeguard's audit log analysis to a real
// kube-apiserver: scripted scenarios (routine work, Secret harvesting,
// exec, anonymous probing, refused escalation, a cluster-admin grant, a
// privileged pod, a bound token used from two addresses) run as different
// users, each with its own token, against a server logging everything at
// RequestResponse; kubeguard audit log must report every attack and
// nothing of the routine user, and print no Secret value although the log
// holds them. kubeguard audit rbac's roles for the routine user, applied
// in place of its own, allow every request it made (SubjectAccessReview
// and a replay) and deny a sample it did not make.
package log

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

var (
	srv     *apiserver.Server
	logPath string
)

var users = []apiserver.User{
	{Name: "dev", Groups: []string{"devs"}},
	{Name: "harvester"},
	{Name: "ops"},
	{Name: "mallory"},
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kubeguard-audit-log-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	logPath = filepath.Join(dir, "audit.log")
	policy := filepath.Join(dir, "policy.yaml")
	// Everything with its bodies: the worst case for leaking Secrets.
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n"), 0o600); err != nil {
		panic(err)
	}
	return apiserver.RunTests(m, apiserver.Options{
		Users: users,
		ExtraArgs: []string{
			"--audit-policy-file=" + policy,
			"--audit-log-path=" + logPath,
			"--audit-log-format=json",
			"--audit-log-mode=blocking",
		},
	}, &srv)
}
