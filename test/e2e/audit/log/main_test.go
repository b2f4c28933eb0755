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
	os.Exit(apiserver.RunAuditedTests(m, users, "testdata/policy.yaml", &srv, &logPath))
}
