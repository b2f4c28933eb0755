// Package mtls runs kubeguard's webhook with --client-ca against a real
// kube-apiserver given a client certificate for webhooks through its
// AdmissionConfiguration, as deploy/README.md documents: the API server's
// calls are served, a webhook that wants another name refuses them (and
// the API server applies failurePolicy), and a client without the
// certificate is refused.
package mtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/webhook"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

var (
	srv *apiserver.Server
	dir string
)

func TestMain(m *testing.M) {
	var err error
	dir, err = os.MkdirTemp("", "kubeguard-mtls-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	admissionConfig, err := writeAPIServerClientConfig(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := apiserver.RunTests(m, apiserver.Options{DisableAdmissionPlugins: []string{"PodSecurity"},
		ExtraArgs: []string{"--admission-control-config-file=" + admissionConfig}}, &srv)
	os.RemoveAll(dir)
	os.Exit(code)
}

// writeAPIServerClientConfig issues the API server a client certificate
// (CN kube-apiserver) from a CA of its own and writes the files of
// deploy/README.md's "Client certificates": the kubeconfig of webhook
// credentials and the AdmissionConfiguration naming it. It returns the
// AdmissionConfiguration's path; the CA is client-ca.crt.
func writeAPIServerClientConfig(dir string) (string, error) {
	ca, err := webhook.NewCA("kubeguard-e2e-client-ca", time.Hour)
	if err != nil {
		return "", err
	}
	client, err := ca.IssueClient("kube-apiserver", time.Hour)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"client-ca.crt": ca.CertPEM, "apiserver-client.crt": client.CertPEM, "apiserver-client.key": client.KeyPEM,
		// "*": every webhook; a real cluster names the Service,
		// kubeguard-webhook.kubeguard-system.svc.
		"webhook-kubeconfig.yaml": fmt.Appendf(nil, `apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: %s
    client-key: %s
`, filepath.Join(dir, "apiserver-client.crt"), filepath.Join(dir, "apiserver-client.key")),
		"admission.yaml": fmt.Appendf(nil, `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %s
`, filepath.Join(dir, "webhook-kubeconfig.yaml")),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "admission.yaml"), nil
}

// startWebhook runs webhook serve in-process, requiring client
// certificates of client-ca.crt with the names given, and returns its
// address and serving CA.
func startWebhook(t *testing.T, names []string) (string, *webhook.KeyPair) {
	t.Helper()
	wdir := t.TempDir()
	ca, _, err := webhook.WriteDevCerts(wdir, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster: {server: %s, certificate-authority-data: %s}\n"+
		"users:\n- name: admin\n  user: {token: %s}\ncontexts:\n- name: e2e\n  context: {cluster: e2e, user: admin}\ncurrent-context: e2e\n",
		srv.URL, base64.StdEncoding.EncodeToString(srv.CAData), srv.AdminToken)
	if err := os.WriteFile(filepath.Join(wdir, "kubeconfig"), []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	o := cli.WebhookServeOptions{
		Addr: addr, CertFile: filepath.Join(wdir, webhook.CertFile), KeyFile: filepath.Join(wdir, webhook.KeyFile),
		Kubeconfig: filepath.Join(wdir, "kubeconfig"), ChecksMode: "off", DenySeverity: "high",
		ReloadInterval: time.Second, ShutdownTimeout: 5 * time.Second, LogLevel: "info",
		ClientCAFile: filepath.Join(dir, "client-ca.crt"), ClientNames: names,
	}
	go func() { done <- cli.ServeWebhook(ctx, o, nil, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("webhook: %v", err)
		}
	})
	c := httpClient(ca)
	for deadline := time.Now().Add(30 * time.Second); ; {
		// Readiness needs no client certificate: the kubelet has none.
		resp, err := c.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, ca
}

func httpClient(ca *webhook.KeyPair) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
}

// register points a fail-closed pod webhook, for namespaces labelled
// for this test, at addr.
func register(t *testing.T, name, addr string, ca *webhook.KeyPair, label string) {
	t.Helper()
	url := "https://" + addr + webhook.ReviewPath
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: name + ".webhook.kubeguard.io", FailurePolicy: &fail, SideEffects: &none,
			AdmissionReviewVersions: []string{"v1"}, TimeoutSeconds: ptr.To[int32](5),
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubeguard-mtls-e2e": label}},
			ClientConfig:      admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca.CertPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
		}},
	}
	if _, err := srv.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// createUntil creates a privileged pod (dry run) in ns until the error
// contains want, and returns the last error.
func createUntil(t *testing.T, ns, want string) error {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Image: "registry.example.com/app:1", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}}
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, err = srv.Client.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil && strings.Contains(err.Error(), want) {
			return err
		}
	}
	t.Fatalf("pod creation never answered %q; last: %v", want, err)
	return nil
}

func TestAPIServerClientCertificate(t *testing.T) {
	t.Run("the API server's certificate is served", func(t *testing.T) {
		addr, ca := startWebhook(t, []string{"kube-apiserver"})
		register(t, "kubeguard-mtls-trusted", addr, ca, "trusted")
		ns := srv.Namespace(t, "trusted", map[string]string{"kubeguard-mtls-e2e": "trusted", "pod-security.kubernetes.io/enforce": "baseline"})
		// The denial is the webhook's Pod Security decision: the call was
		// authenticated and answered.
		createUntil(t, ns.Name, `violates PodSecurity "baseline:latest": privileged`)

		// Anyone else, without the certificate, is refused.
		body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x"}}`)
		resp, err := httpClient(ca).Post("https://"+addr+webhook.ReviewPath, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("review without a client certificate: HTTP %d, want 401", resp.StatusCode)
		}
	})
	t.Run("a webhook wanting another name refuses the API server", func(t *testing.T) {
		addr, ca := startWebhook(t, []string{"someone-else"})
		register(t, "kubeguard-mtls-other", addr, ca, "other")
		ns := srv.Namespace(t, "other", map[string]string{"kubeguard-mtls-e2e": "other", "pod-security.kubernetes.io/enforce": "baseline"})
		// failurePolicy Fail: the API server refuses the pod because the
		// call failed with the webhook's 401, which client-go words as
		// "the server has asked for the client to provide credentials".
		createUntil(t, ns.Name, `failed calling webhook "kubeguard-mtls-other.webhook.kubeguard.io": failed to call webhook: the server has asked for the client to provide credentials`)
	})
}

// syncBuffer is a bytes.Buffer safe for the webhook's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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
