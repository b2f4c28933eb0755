package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
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

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// fakeReviewer denies objects named "deny", panics on "panic" and sleeps
// on "slow".
type fakeReviewer struct{ slow time.Duration }

func (f fakeReviewer) Review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	switch req.Name {
	case "deny":
		return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{Code: 403, Message: "no"}}
	case "panic":
		panic("boom")
	case "slow":
		select {
		case <-time.After(f.slow):
		case <-ctx.Done():
			time.Sleep(50 * time.Millisecond) // finish late regardless
		}
	}
	return &admissionv1.AdmissionResponse{Allowed: true, Warnings: []string{"seen " + req.Name}}
}

func reviewBody(t testing.TB, uid, name string) []byte {
	t.Helper()
	b, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: reviewTypeMeta, Request: &admissionv1.AdmissionRequest{UID: types.UID(uid), Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// devCerts writes a CA and a serving certificate for 127.0.0.1 into a
// temporary directory.
func devCerts(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	ca, _, err := WriteDevCerts(dir, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// testServer is a running Server on 127.0.0.1 and a client that trusts it.
type testServer struct{ URL string }

// tlsServer runs the server with its own TLS configuration (Serve, as in
// production) on 127.0.0.1.
func tlsServer(t *testing.T, o Options) (*testServer, *http.Client, *Server) {
	t.Helper()
	dir := t.TempDir()
	pool := devCerts(t, dir)
	certs, err := NewCertReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Certificates = certs
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	waitUp(t, client, "https://"+addr)
	return &testServer{URL: "https://" + addr}, client, s
}

// waitUp waits until the server answers /healthz.
func waitUp(t *testing.T, c *http.Client, url string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := c.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if i > 200 {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func post(t *testing.T, c *http.Client, url, contentType string, body []byte) (int, *admissionv1.AdmissionReview) {
	t.Helper()
	resp, err := c.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("answer is not an AdmissionReview: %v", err)
	}
	return resp.StatusCode, &r
}

func TestReviews(t *testing.T) {
	ts, c, _ := tlsServer(t, Options{Reviewer: fakeReviewer{slow: 5 * time.Second}, MaxBodyBytes: 4096})
	tests := []struct {
		name        string
		query       string
		contentType string
		body        []byte
		status      int
		want        *admissionv1.AdmissionResponse
	}{
		{"allowed", "", "application/json", reviewBody(t, "u1", "ok"), 200,
			&admissionv1.AdmissionResponse{UID: "u1", Allowed: true, Warnings: []string{"seen ok"}}},
		{"denied", "", "application/json; charset=utf-8", reviewBody(t, "u2", "deny"), 200,
			&admissionv1.AdmissionResponse{UID: "u2", Result: &metav1.Status{Code: 403, Message: "no"}}},
		{"panic becomes an error response", "", "application/json", reviewBody(t, "u3", "panic"), 200,
			&admissionv1.AdmissionResponse{UID: "u3", Result: &metav1.Status{Status: "Failure", Code: 500, Reason: "Internal Server Error",
				Message: "kubeguard webhook: internal error while reviewing the request (logged)"}}},
		{"timeout honoured", "?timeout=100ms", "application/json", reviewBody(t, "u4", "slow"), 504,
			&admissionv1.AdmissionResponse{UID: "u4", Result: &metav1.Status{Status: "Failure", Code: 504, Reason: "Gateway Timeout",
				Message: "kubeguard webhook: review did not finish within 90ms"}}},
		{"malformed", "", "application/json", []byte(`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": [`), 400,
			&admissionv1.AdmissionResponse{Result: &metav1.Status{Status: "Failure", Code: 400, Reason: "Bad Request",
				Message: "kubeguard webhook: decode review: unexpected end of JSON input"}}},
		{"oversized", "", "application/json", append(reviewBody(t, "u5", "big")[:10], bytes.Repeat([]byte(" "), 5000)...), 413,
			&admissionv1.AdmissionResponse{Result: &metav1.Status{Status: "Failure", Code: 413, Reason: "Request Entity Too Large",
				Message: "kubeguard webhook: review is over the limit of 4096 bytes"}}},
		{"wrong content type", "", "application/yaml", reviewBody(t, "u6", "ok"), 415,
			&admissionv1.AdmissionResponse{Result: &metav1.Status{Status: "Failure", Code: 415, Reason: "Unsupported Media Type",
				Message: `kubeguard webhook: content type "application/yaml": want application/json`}}},
		{"v1beta1 review", "", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u7"}}`), 200,
			&admissionv1.AdmissionResponse{UID: "u7", Result: &metav1.Status{Status: "Failure", Code: 400, Reason: "Bad Request",
				Message: "kubeguard webhook: got admission.k8s.io/v1beta1 AdmissionReview, want admission.k8s.io/v1 AdmissionReview (admissionReviewVersions: [v1])"}}},
		{"no request", "", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400,
			&admissionv1.AdmissionResponse{Result: &metav1.Status{Status: "Failure", Code: 400, Reason: "Bad Request",
				Message: "kubeguard webhook: review has no request"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			status, r := post(t, c, ts.URL+ReviewPath+tt.query, tt.contentType, tt.body)
			if status != tt.status {
				t.Errorf("HTTP status %d, want %d", status, tt.status)
			}
			if r.APIVersion != "admission.k8s.io/v1" || r.Kind != "AdmissionReview" {
				t.Errorf("answer is %s %s", r.APIVersion, r.Kind)
			}
			if d := cmp.Diff(tt.want, r.Response); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

func TestHealthReadinessMetrics(t *testing.T) {
	var ready atomic.Bool
	ts, c, s := tlsServer(t, Options{Reviewer: fakeReviewer{}, Ready: ready.Load})
	get := func(path string) (int, string) {
		resp, err := c.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "namespace cache not synced") {
		t.Errorf("/readyz before sync = %d %q", code, body)
	}
	ready.Store(true)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz after sync = %d", code)
	}
	s.draining.Store(true)
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz while draining = %d", code)
	}
	s.o.Metrics.Record("enforce", "baseline", "deny")
	post(t, c, ts.URL+ReviewPath, "application/json", reviewBody(t, "u", "deny"))
	_, body := get("/metrics")
	for _, want := range []string{
		`kubeguard_admission_decisions_total{level="baseline",mode="enforce",result="deny"} 1`,
		`kubeguard_admission_requests_total{outcome="denied"} 1`,
		`kubeguard_admission_request_duration_seconds_bucket{le="+Inf"} 1`,
		`kubeguard_admission_request_duration_seconds_count 1`,
		"# TYPE kubeguard_admission_request_duration_seconds histogram",
		"# TYPE go_goroutines gauge",
		"# TYPE process_resident_memory_bytes gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestTLSMinimumVersion(t *testing.T) {
	ts, _, _ := tlsServer(t, Options{Reviewer: fakeReviewer{}})
	conn, err := tls.Dial("tcp", strings.TrimPrefix(ts.URL, "https://"), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
}

// serve runs Server.Serve on 127.0.0.1 and returns its address and a stop
// function that waits for Serve to return.
func serve(t testing.TB, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() { cancel(); serr = <-errc })
		return serr
	}
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop
}

func TestCertificateRotationUnderLoad(t *testing.T) {
	dir := t.TempDir()
	pool := devCerts(t, dir)
	m := NewMetrics()
	certs, err := NewCertReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), nil, m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Reviewer: fakeReviewer{}, Certificates: certs, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serve(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go certs.Run(ctx, 10*time.Millisecond)

	// Clients trust a pool that holds every CA the test will issue, as
	// an API server given a caBundle with old and new CA would: the new
	// CAs are in it before any rotation starts, so a client that took its
	// copy of the pool just before a rotation still trusts what it meets.
	type pair struct{ cert, key []byte }
	var rotations []pair
	for range 3 {
		ca, err := NewCA("rotated", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := ca.Issue([]string{"127.0.0.1"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		pool.AddCert(ca.Cert)
		rotations = append(rotations, pair{kp.CertPEM, kp.KeyPEM})
	}
	var poolMu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	stopLoad := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				poolMu.Lock()
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool.Clone()}, DisableKeepAlives: true}
				poolMu.Unlock()
				c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
				resp, err := c.Post("https://"+addr+ReviewPath, "application/json", bytes.NewReader(reviewBody(t, "u", "ok")))
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					if err == nil {
						resp.Body.Close()
					}
					continue
				}
				poolMu.Lock()
				seen[resp.TLS.PeerCertificates[0].SerialNumber.String()] = true
				poolMu.Unlock()
				resp.Body.Close()
				ok.Add(1)
			}
		}()
	}
	// Rotate three times: new CA and serving pair, written over the old
	// files one after the other as a Secret update would.
	for _, kp := range rotations {
		time.Sleep(100 * time.Millisecond)
		if err := os.WriteFile(filepath.Join(dir, KeyFile), kp.key, 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15 * time.Millisecond) // let a poll see the key without its certificate
		if err := os.WriteFile(filepath.Join(dir, CertFile), kp.cert, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	close(stopLoad)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during rotation", failed.Load(), failed.Load()+ok.Load())
	}
	if len(seen) != 4 {
		t.Errorf("clients saw %d serving certificates, want 4 (the first and three rotations)", len(seen))
	}
	if got := count(t, m.certReloads); got != 3 {
		t.Errorf("certificate reloads = %d, want 3", got)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	dir := t.TempDir()
	pool := devCerts(t, dir)
	certs, err := NewCertReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Reviewer: fakeReviewer{slow: 300 * time.Millisecond}, Certificates: certs})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serve(t, s)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	waitUp(t, c, "https://"+addr)
	type res struct {
		status int
		err    error
	}
	done := make(chan res, 1)
	go func() {
		resp, err := c.Post("https://"+addr+ReviewPath, "application/json", bytes.NewReader(reviewBody(t, "u", "slow")))
		if err != nil {
			done <- res{err: err}
			return
		}
		resp.Body.Close()
		done <- res{status: resp.StatusCode}
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is in flight
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: status %d, error %v", r.status, r.err)
	}
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}).Get("https://" + addr + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}
