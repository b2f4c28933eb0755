package apiserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// RunTests is the body of a test package's TestMain: it starts one server
// for all the package's tests, stores it in *srv, runs them, and stops it.
// When a test fails, or the server does not start, it prints the tails of
// the logs and keeps the log files, naming where. It returns the exit code
// for os.Exit.
func RunTests(m *testing.M, opts Options, srv **Server) int {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	timeout := 20 * time.Minute // a cold build of kube-apiserver included
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	s, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start kube-apiserver: %v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if code != 0 {
		s.KeepLogs()
		fmt.Fprintf(os.Stderr, "e2e: tests failed; server logs kept in %s\n%s", s.LogDir, s.LogTails(30))
	}
	s.Stop()
	return code
}

// CreateNamespace creates a namespace with the labels given and its
// default ServiceAccount, which the ServiceAccount admission plugin wants
// every Pod's namespace to have and which nobody else creates here, since
// no controller-manager runs. The name is generated from prefix.
func CreateNamespace(ctx context.Context, c kubernetes.Interface, prefix string, labels map[string]string) (*corev1.Namespace, error) {
	ns, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create namespace %s-*: %w", prefix, err)
	}
	_, err = c.CoreV1().ServiceAccounts(ns.Name).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "default"},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create default service account in %s: %w", ns.Name, err)
	}
	return ns, nil
}

// Namespace is CreateNamespace for a test: it fails the test on error and
// deletes the namespace when the test ends. Without a namespace controller
// the deleted namespace stays Terminating, which harms nobody: every
// namespace has a fresh name.
func (s *Server) Namespace(t testing.TB, prefix string, labels map[string]string) *corev1.Namespace {
	t.Helper()
	ns, err := CreateNamespace(t.Context(), s.Client, prefix, labels)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns
}

// ClientAs returns a clientset that acts as user, in groups, by
// impersonation through the admin identity: requests are authorized as
// that user's.
func (s *Server) ClientAs(user string, groups ...string) (kubernetes.Interface, error) {
	cfg := rest.CopyConfig(s.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return kubernetes.NewForConfig(cfg)
}

// ConfigAs returns a client configuration that authenticates as one of
// Options.Users with its own token, so that requests are the user's own
// (audit events name the user, not an impersonator), or anonymously when
// user is "system:anonymous".
func (s *Server) ConfigAs(user string) (*rest.Config, error) {
	cfg := rest.CopyConfig(s.Config)
	cfg.BearerToken = ""
	if user == "system:anonymous" {
		return cfg, nil
	}
	tok, ok := s.Tokens[user]
	if !ok {
		return nil, fmt.Errorf("no token for user %q: add it to Options.Users", user)
	}
	cfg.BearerToken = tok
	return cfg, nil
}

// RunAuditedTests is RunTests for a server that audits requests with the
// policy file given (relative to the test's directory), writing each event
// as a JSON line before the request is answered, to a temporary file whose
// path it stores in *log before the tests run.
func RunAuditedTests(m *testing.M, users []User, policy string, srv **Server, log *string) int {
	policy, err := filepath.Abs(policy)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "kubeguard-audit-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	*log = filepath.Join(dir, "audit.log")
	return RunTests(m, Options{
		Users: users,
		ExtraArgs: []string{
			"--audit-policy-file=" + policy,
			"--audit-log-path=" + *log,
			"--audit-log-format=json",
			"--audit-log-mode=blocking",
		},
	}, srv)
}

// StartForTest starts a kube-apiserver and etcd for one test, which stop
// when it ends (with the logs' tails when it failed). Under -short the
// test is skipped.
func StartForTest(t *testing.T, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.LogTails(30))
		}
		s.Stop()
	})
	return s
}
