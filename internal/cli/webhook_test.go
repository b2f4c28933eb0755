package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaload "k8s.io/pod-security-admission/admission/api/load"

	"github.com/kubeguard/kubeguard/internal/webhook"
)

func TestWebhookUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"webhook", "--help"}, ExitOK, "serve   serve admission reviews over TLS"},
		{[]string{"webhook"}, ExitError, "Commands:"},
		{[]string{"webhook", "serve", "--help"}, ExitOK, "kubeguard.io/checks=warn"},
		{[]string{"webhook", "serve"}, ExitError, "--cert and --key are required"},
		{[]string{"webhook", "serve", "--cert", "a", "--key", "b", "--checks", "loud"}, ExitError, `invalid checks mode "loud"`},
		{[]string{"webhook", "serve", "--cert", "a", "--key", "b", "--max-inflight-bytes", "1000"}, ExitError, "--max-inflight-bytes (1000) must be at least --max-body-bytes"},
		{[]string{"webhook", "serve", "--cert", "a", "--key", "b", "--client-name", "kube-apiserver"}, ExitError, "--client-name needs --client-ca"},
		{[]string{"webhook", "serve", "--help"}, ExitOK, "--max-inflight-bytes"},
		{[]string{"webhook", "certs", "--help"}, ExitOK, "caBundle"},
		{[]string{"webhook", "certs", "--dir", "x"}, ExitError, "at least one --name is required"},
		{[]string{"webhook", "nope"}, ExitError, `unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errw bytes.Buffer
			code := Run(context.Background(), tt.args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errw})
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, out.String(), errw.String())
			}
			if !strings.Contains(out.String()+errw.String(), tt.contains) {
				t.Errorf("output lacks %q:\n%s%s", tt.contains, out.String(), errw.String())
			}
		})
	}
}

func TestWebhookCerts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out, errw bytes.Buffer
	code := Run(context.Background(), []string{"webhook", "certs", "--dir", dir, "--name", "kubeguard-webhook.kubeguard-system.svc,127.0.0.1", "--validity", "48h"},
		IO{Stdout: &out, Stderr: &errw})
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	for name, mode := range map[string]os.FileMode{"ca.key": 0o600, "tls.key": 0o600, "ca.crt": 0o644, "tls.crt": 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	ca := readCert(t, filepath.Join(dir, "ca.crt"))
	leaf := readCert(t, filepath.Join(dir, "tls.crt"))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"kubeguard-webhook.kubeguard-system.svc", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("serving certificate for %s: %v", name, err)
		}
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("serving key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	if d := time.Until(leaf.NotAfter); d > 49*time.Hour || d < 47*time.Hour {
		t.Errorf("valid for %s, want 48h", d)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")); err != nil {
		t.Errorf("tls.crt and tls.key do not pair: %v", err)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeWebhookCluster is a webhook.Cluster with fixed namespaces.
type fakeWebhookCluster map[string]map[string]string

func (f fakeWebhookCluster) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: f[name]}}, nil
}
func (fakeWebhookCluster) ListPods(context.Context, string) ([]*corev1.Pod, error) { return nil, nil }
func (fakeWebhookCluster) HasSynced() bool                                         { return true }

var _ webhook.Cluster = fakeWebhookCluster{}

// TestWebhookServeReloadsExemptions runs the command's server on 127.0.0.1
// and exempts a denied pod by editing the configuration file.
func TestWebhookServeReloadsExemptions(t *testing.T) {
	dir := t.TempDir()
	ca, _, err := webhook.WriteDevCerts(dir, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "kubeguard.yaml")
	if err := os.WriteFile(cfgPath, []byte("exemptions: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	o := WebhookServeOptions{Addr: addr, CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"), Config: cfgPath,
		ChecksMode: "off", DenySeverity: "high", ReloadInterval: 20 * time.Millisecond, LogLevel: "info", MaxBodyBytes: webhook.DefaultMaxBodyBytes}
	go func() {
		done <- ServeWebhook(ctx, o, fakeWebhookCluster{"team": {"pod-security.kubernetes.io/enforce": "baseline"}}, &syncWriter{w: &logs})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	url := "https://" + addr
	for i := 0; ; i++ {
		resp, err := c.Get(url + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 300 {
			t.Fatalf("not ready: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"team"},"spec":{"containers":[{"name":"proxy","image":"mesh/proxy:1","securityContext":{"privileged":true}}]}}`
	review := func() *admissionv1.AdmissionResponse {
		body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"version":"v1","kind":"Pod"},` +
			`"resource":{"version":"v1","resource":"pods"},"name":"p","namespace":"team","operation":"CREATE","userInfo":{"username":"alice"},"object":` + pod + `}}`
		resp, err := c.Post(url+webhook.ReviewPath+"?timeout=5s", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Response == nil {
			t.Fatalf("bad answer: %v", err)
		}
		return r.Response
	}
	if r := review(); r.Allowed || !strings.Contains(r.Result.Message, `violates PodSecurity "baseline:latest": privileged`) {
		t.Fatalf("privileged pod: allowed=%v %v", r.Allowed, r.Result)
	}
	exempt := "exemptions:\n- checks: [pss-privileged]\n  namespace: team\n  container: proxy\n  reason: mesh proxy, owner team-net\n"
	if err := os.WriteFile(cfgPath, []byte(exempt), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !review().Allowed {
		if time.Now().After(deadline) {
			t.Fatal("exemption not picked up after the file changed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := c.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), "kubeguard_webhook_config_reloads_total 1") {
		t.Errorf("metrics do not count the reload:\n%s", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	done <- nil
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"configuration reloaded"`) {
		t.Errorf("no reload logged:\n%s", logs.String())
	}
}

// syncWriter serialises writes from the server's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestPodSecurityConfigExample keeps the help's example configuration
// loadable by the plugin's own loader.
func TestPodSecurityConfigExample(t *testing.T) {
	var help bytes.Buffer
	Run(context.Background(), []string{"webhook", "serve", "--help"}, IO{Stdout: &help, Stderr: &help})
	var example []string
	for _, line := range strings.Split(help.String(), "\n") {
		if strings.HasPrefix(line, "  apiVersion: pod-security") || len(example) > 0 && len(example) < 4 {
			example = append(example, strings.TrimPrefix(line, "  "))
		}
	}
	cfg, err := psaload.LoadFromData([]byte(strings.Join(example, "\n")))
	if err != nil {
		t.Fatalf("example does not load: %v\n%s", err, strings.Join(example, "\n"))
	}
	if cfg.Defaults.Enforce != "baseline" || len(cfg.Exemptions.RuntimeClasses) != 1 {
		t.Errorf("example loaded as %+v", cfg)
	}
}
