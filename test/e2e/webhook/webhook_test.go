// Package webhook runs kubeguard's admission webhook in-process against a
// real kube-apiserver whose built-in PodSecurity plugin is disabled, so
// that every Pod Security decision the API server returns is the
// webhook's: the upstream conformance harness (k8s.io/pod-security-admission/test)
// for every level and the versions it selects, then faults: the webhook
// stopped, and its certificate rotated under load.
package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	psatest "k8s.io/pod-security-admission/test"
	"k8s.io/utils/ptr"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/webhook"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

var srv *apiserver.Server

// The Pod Security exemptions the webhook under test is configured with.
const (
	exemptUser      = "kubeguard-e2e-exempt"
	exemptNamespace = "kubeguard-e2e-exempt"
)

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunTests(m, apiserver.Options{DisableAdmissionPlugins: []string{"PodSecurity"}}, &srv))
}

// running is the webhook started by start.
type running struct {
	dir, addr string
	ca        *webhook.KeyPair
	cancel    context.CancelFunc
	done      chan error
	logs      *syncBuffer
}

var (
	hookOnce sync.Once
	hook     *running
)

// webhookUnderTest starts the webhook and registers it, once for the
// package.
func webhookUnderTest(t *testing.T) *running {
	t.Helper()
	hookOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kubeguard-webhook-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		ca, _, err := webhook.WriteDevCerts(dir, []string{"127.0.0.1"}, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeKubeconfig(filepath.Join(dir, "kubeconfig")); err != nil {
			t.Fatal(err)
		}
		// Pod Security exemptions as the API server's configuration
		// would set them, and a kubeguard configuration to reload.
		psc := "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n" +
			"exemptions: {usernames: [" + exemptUser + "], namespaces: [" + exemptNamespace + "]}\n"
		if err := os.WriteFile(filepath.Join(dir, "podsecurity.yaml"), []byte(psc), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kubeguard.yaml"), []byte("exemptions: []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		hook = &running{dir: dir, addr: addr, ca: ca, logs: &syncBuffer{}}
		hook.start(t)
		register(t, addr, ca.CertPEM)
	})
	if hook == nil {
		t.Fatal("webhook did not start")
	}
	return hook
}

// writeKubeconfig writes the admin credentials for the webhook's
// --kubeconfig; the file stays in the test's private directory.
func writeKubeconfig(path string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, srv.URL, base64.StdEncoding.EncodeToString(srv.CAData), srv.AdminToken)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// start runs kubeguard webhook serve's server in-process and waits until
// it is ready (its namespace cache synced).
func (r *running) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	o := cli.WebhookServeOptions{
		Addr: r.addr, CertFile: filepath.Join(r.dir, webhook.CertFile), KeyFile: filepath.Join(r.dir, webhook.KeyFile),
		Kubeconfig: filepath.Join(r.dir, "kubeconfig"), ChecksMode: "off", DenySeverity: "high",
		PodSecurityConfig: filepath.Join(r.dir, "podsecurity.yaml"), Config: filepath.Join(r.dir, "kubeguard.yaml"),
		ReloadInterval: 100 * time.Millisecond, ShutdownTimeout: 10 * time.Second, MaxBodyBytes: webhook.DefaultMaxBodyBytes, LogLevel: "info",
	}
	go func() { r.done <- cli.ServeWebhook(ctx, o, nil, r.logs) }()
	c := r.client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.Get("https://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-r.done:
			t.Fatalf("webhook exited: %v\n%s", err, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook not ready: %v\n%s", err, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("webhook shutdown: %v", err)
	}
}

func (r *running) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(r.ca.Cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
}

func (r *running) metric(t *testing.T, name string) string {
	t.Helper()
	resp, err := r.client().Get("https://" + r.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// register installs the two webhook configurations of deploy/, pointed at
// the in-process server, and waits until the API server calls it.
func register(t *testing.T, addr string, caBundle []byte) {
	t.Helper()
	url := "https://" + addr + webhook.ReviewPath
	exclude := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system"}}}}
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	rule := func(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
		return admissionregistrationv1.RuleWithOperations{Operations: ops, Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: resources}}
	}
	none := admissionregistrationv1.SideEffectClassNone
	cfg := func(name string, policy admissionregistrationv1.FailurePolicyType, rules ...admissionregistrationv1.RuleWithOperations) *admissionregistrationv1.ValidatingWebhookConfiguration {
		return &admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "kubeguard-" + name},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{
				Name: name + ".webhook.kubeguard.io", FailurePolicy: &policy, SideEffects: &none,
				AdmissionReviewVersions: []string{"v1"}, TimeoutSeconds: ptr.To[int32](5), NamespaceSelector: exclude,
				ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle}, Rules: rules,
			}},
		}
	}
	ctx := context.Background()
	for _, c := range []*admissionregistrationv1.ValidatingWebhookConfiguration{
		cfg("pods", admissionregistrationv1.Fail, rule("", "pods", "pods/ephemeralcontainers", "namespaces")),
		cfg("workloads", admissionregistrationv1.Ignore, rule("", "podtemplates", "replicationcontrollers"),
			rule("apps", "daemonsets", "deployments", "replicasets", "statefulsets"), rule("batch", "cronjobs", "jobs")),
	} {
		if _, err := srv.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, c, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The API server picks configurations up from an informer: wait
	// until a privileged pod in a restricted namespace is refused.
	ns := srv.Namespace(t, "probe", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := srv.Client.CoreV1().Pods(ns.Name).Create(ctx, pod("probe", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), "violates PodSecurity") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook not called: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pod is a pod that restricted rejects unless sc makes it comply.
func pod(name string, sc *corev1.SecurityContext) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1", SecurityContext: sc}}}}
}

// restrictedSC makes pod pass restricted at every version.
func restrictedSC() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// TestConformance runs the upstream Pod Security conformance harness
// against the API server with kubeguard as its only Pod Security
// admission: both levels, at every version the harness selects (each
// version with its own checks or fixtures, v1.0 and the newest).
func TestConformance(t *testing.T) {
	webhookUnderTest(t)
	psatest.Run(t, psatest.Options{
		ClientConfig: srv.Config,
		CreateNamespace: func(c kubernetes.Interface, name string, labels map[string]string) (*corev1.Namespace, error) {
			return c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
		},
	})
}

// TestWebhookStopped: with no webhook answering, the fail-closed pod
// configuration refuses pods with a clear error and the fail-open one
// admits workloads.
func TestWebhookStopped(t *testing.T) {
	h := webhookUnderTest(t)
	ns := srv.Namespace(t, "stopped", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	ctx := context.Background()
	h.stop(t)
	defer h.start(t)

	_, err := srv.Client.CoreV1().Pods(ns.Name).Create(ctx, pod("compliant", restrictedSC()), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil {
		t.Fatal("a pod was admitted with the fail-closed webhook down")
	}
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), `failed calling webhook "pods.webhook.kubeguard.io"`) {
		t.Errorf("pod refused with an unclear error: %v", err)
	}
	t.Logf("pod refused: %v", err)

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: pod("", nil).Spec}}}
	if _, err := srv.Client.AppsV1().Deployments(ns.Name).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("workload refused with the fail-open webhook down: %v", err)
	}
}

// TestCertificateRotationUnderLoad rotates the serving certificate three
// times while clients create pods through the API server; none may fail.
func TestCertificateRotationUnderLoad(t *testing.T) {
	h := webhookUnderTest(t)
	ns := srv.Namespace(t, "rotation", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	before := h.metric(t, "kubeguard_webhook_certificate_reloads_total")

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := pod(fmt.Sprintf("p-%d-%d", w, i), restrictedSC())
				if i%2 == 1 {
					p.Spec.Containers[0].SecurityContext = nil // must be denied, and by the webhook
				}
				_, err := srv.Client.CoreV1().Pods(ns.Name).Create(context.Background(), p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
				good := (i%2 == 0 && err == nil) || (i%2 == 1 && err != nil && strings.Contains(err.Error(), "violates PodSecurity"))
				if !good {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%v", err))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for range 3 {
		time.Sleep(time.Second)
		kp, err := h.ca.Issue([]string{"127.0.0.1"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// The key first, then the certificate, as a Secret volume's
		// files change: for a moment they do not pair.
		if err := os.WriteFile(filepath.Join(h.dir, webhook.KeyFile), kp.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		if err := os.WriteFile(filepath.Join(h.dir, webhook.CertFile), kp.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("%d requests through the API server during 3 rotations, %d failed", ok.Load()+failed.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d requests failed during rotation; first: %v", failed.Load(), firstErr.Load())
	}
	after := h.metric(t, "kubeguard_webhook_certificate_reloads_total")
	if before == after {
		t.Errorf("certificate reloads %s before and %s after: the rotation was not picked up", before, after)
	}
	// A new handshake gets the newest certificate.
	conn, err := tls.Dial("tcp", h.addr, &tls.Config{RootCAs: func() *x509.CertPool { p := x509.NewCertPool(); p.AddCert(h.ca.Cert); return p }()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cur, err := os.ReadFile(filepath.Join(h.dir, webhook.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cur), base64.StdEncoding.EncodeToString(conn.ConnectionState().PeerCertificates[0].Raw)[:40]) {
		t.Error("the server does not present the certificate last written")
	}
}

// syncBuffer collects the webhook's JSON logs.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
