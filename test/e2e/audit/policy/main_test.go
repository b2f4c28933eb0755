// Package policy holds kubeguard's audit policy evaluation to a real
// kube-apiserver: the server runs with the policy of testdata/policy.yaml,
// a matrix of requests (verbs × resources and subresources × namespaces ×
// users, anonymous included, each authenticated with its own token) is
// made, and for every request the level and stages kubeguard predicts are
// those of the events the server wrote for it (none at level None).
package policy

import (
	"os"
	"testing"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

var (
	srv     *apiserver.Server
	logPath string
)

// users of the matrix, with the groups of their tokens.
var users = []apiserver.User{
	{Name: "alice", Groups: []string{"devs"}},
	{Name: "bob"},
	{Name: "system:serviceaccount:audit-a:ci", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:audit-a"}},
}

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunAuditedTests(m, users, "testdata/policy.yaml", &srv, &logPath))
}
