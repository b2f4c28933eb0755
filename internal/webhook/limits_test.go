package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

// gateReviewer holds every review until its gate is closed, counting
// those running at once.
type gateReviewer struct {
	gate          chan struct{}
	running, peak atomic.Int64
	started       chan struct{}
}

func newGateReviewer() *gateReviewer {
	return &gateReviewer{gate: make(chan struct{}), started: make(chan struct{}, 100)}
}

func (g *gateReviewer) Review(ctx context.Context, _ *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	g.started <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
	}
	return &admissionv1.AdmissionResponse{Allowed: true}
}

// paddedReview is a review of exactly size bytes.
func paddedReview(t testing.TB, uid string, size int) []byte {
	b := reviewBody(t, uid, "x")
	if len(b) > size {
		t.Fatalf("review is %d bytes, over %d", len(b), size)
	}
	return append(b, bytes.Repeat([]byte(" "), size-len(b))...)
}

// postAsync posts a review and returns its status on the channel.
func postAsync(c *http.Client, url string, body []byte) <-chan int {
	ch := make(chan int, 1)
	go func() {
		resp, err := c.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			ch <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	return ch
}

func waitStarted(t *testing.T, g *gateReviewer, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.started:
		case <-time.After(5 * time.Second):
			t.Fatal("review did not start")
		}
	}
}

// TestMemoryBudget: with the budget taken by reviews in flight, the next
// one waits QueueWait and is turned away with 429 and Retry-After (the
// API server applies the failure policy), and is served again once the
// budget is free.
func TestMemoryBudget(t *testing.T) {
	g := newGateReviewer()
	m := NewMetrics()
	ts, c, _ := tlsServer(t, Options{Reviewer: g, Metrics: m, MaxBodyBytes: 1000, MaxInflightBytes: 2000, MaxReviews: 10, QueueWait: 100 * time.Millisecond})
	url := ts.URL + ReviewPath
	first, second := postAsync(c, url, paddedReview(t, "a", 1000)), postAsync(c, url, paddedReview(t, "b", 1000))
	waitStarted(t, g, 2)

	resp, err := c.Post(url, "application/json", bytes.NewReader(paddedReview(t, "c", 1000)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "memory budget") {
		t.Errorf("over budget: HTTP %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := m.inflight(); got != 2000 {
		t.Errorf("in-flight bytes = %d, want 2000", got)
	}
	// A small review fits nowhere either: waiters are not overtaken, and
	// the budget is full.
	close(g.gate)
	if a, b := <-first, <-second; a != 200 || b != 200 {
		t.Errorf("reviews in flight: HTTP %d, %d", a, b)
	}
	if s := <-postAsync(c, url, paddedReview(t, "d", 1000)); s != 200 {
		t.Errorf("after the budget is free: HTTP %d", s)
	}
	if got := m.inflight(); got != 0 {
		t.Errorf("in-flight bytes after the reviews = %d, want 0", got)
	}
	if got := count(t, m.requests.WithLabelValues("throttled")); got != 1 {
		t.Errorf("throttled reviews counted %d, want 1", got)
	}
}

// TestBudgetWaitersServedInOrder: a waiting review gets the budget when
// it frees, before a later one.
func TestBudgetWaitersServedInOrder(t *testing.T) {
	b := newBudget(10)
	if err := b.acquire(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 2)
	for _, n := range []int64{8, 5} {
		go func() {
			if err := b.acquire(context.Background(), n); err != nil {
				t.Error(err)
			}
			got <- n
		}()
		time.Sleep(20 * time.Millisecond) // queue in this order
	}
	// A small review arriving later does not overtake the waiters.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := b.acquire(ctx, 1); err == nil {
		t.Error("a later review overtook the waiting ones")
	}
	b.release(10)
	if n := <-got; n != 8 {
		t.Fatalf("granted %d first, want the first waiter (8)", n)
	}
	select {
	case n := <-got:
		t.Fatalf("granted %d past the limit", n)
	case <-time.After(20 * time.Millisecond):
	}
	b.release(8)
	if n := <-got; n != 5 {
		t.Fatalf("granted %d", n)
	}
	b.release(5)
	if b.inUse.Load() != 0 || len(b.waiters) != 0 {
		t.Errorf("used %d, waiters %d", b.inUse.Load(), len(b.waiters))
	}
}

// TestWorkersBounded: no more than MaxReviews reviews run at once; one
// more is turned away with 429 after QueueWait, and none is lost.
func TestWorkersBounded(t *testing.T) {
	g := newGateReviewer()
	ts, c, _ := tlsServer(t, Options{Reviewer: g, MaxReviews: 2, QueueWait: 100 * time.Millisecond})
	url := ts.URL + ReviewPath
	a, b := postAsync(c, url, reviewBody(t, "a", "x")), postAsync(c, url, reviewBody(t, "b", "x"))
	waitStarted(t, g, 2)
	if s := <-postAsync(c, url, reviewBody(t, "c", "x")); s != http.StatusTooManyRequests {
		t.Errorf("third review: HTTP %d, want 429", s)
	}
	close(g.gate)
	if x, y := <-a, <-b; x != 200 || y != 200 {
		t.Errorf("reviews: HTTP %d, %d", x, y)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { <-postAsync(c, url, reviewBody(t, "d", "x")) })
	}
	wg.Wait()
	if p := g.peak.Load(); p > 2 {
		t.Errorf("%d reviews ran at once, want at most 2", p)
	}
}

// TestTimedOutReviewFreesItsWorker: a review past its deadline is
// answered 504 and its worker, watching the context, is free for the
// next review.
func TestTimedOutReviewFreesItsWorker(t *testing.T) {
	g := newGateReviewer()
	ts, c, _ := tlsServer(t, Options{Reviewer: g, MaxReviews: 1, QueueWait: 2 * time.Second})
	if s := <-postAsync(c, ts.URL+ReviewPath+"?timeout=100ms", reviewBody(t, "a", "x")); s != http.StatusGatewayTimeout {
		t.Errorf("HTTP %d, want 504", s)
	}
	waitStarted(t, g, 1)
	done := postAsync(c, ts.URL+ReviewPath, reviewBody(t, "b", "x"))
	waitStarted(t, g, 1)
	close(g.gate)
	if s := <-done; s != 200 {
		t.Errorf("next review: HTTP %d", s)
	}
}

// TestTLSSuitesAEADOnly: TLS 1.2 clients offering only CBC suites are
// refused; AEAD suites are served.
func TestTLSSuitesAEADOnly(t *testing.T) {
	ts, _, _ := tlsServer(t, Options{Reviewer: fakeReviewer{}})
	addr := strings.TrimPrefix(ts.URL, "https://")
	for _, tt := range []struct {
		suite uint16
		ok    bool
	}{
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, false},
		{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
		{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
	} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tt.suite}})
		if err == nil {
			conn.Close()
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: handshake error %v, want success %v", tls.CipherSuiteName(tt.suite), err, tt.ok)
		}
	}
}

// TestClientCertificates: with ClientCAs, a review needs a client
// certificate from them (and of an allowed name); probes need none.
func TestClientCertificates(t *testing.T) {
	clientCA, err := NewCA("apiserver-client-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := NewCA("other-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.Cert)
	pair := func(ca *KeyPair) *tls.Certificate {
		kp, err := ca.IssueClient("kube-apiserver", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	trusted, other := pair(clientCA), pair(otherCA)
	for _, tt := range []struct {
		name  string
		names []string
		cert  *tls.Certificate
		want  int // 0: the handshake fails
	}{
		{"no certificate", nil, nil, http.StatusUnauthorized},
		{"certificate of another CA (the client sends none)", nil, other, http.StatusUnauthorized},
		{"trusted certificate", nil, trusted, 200},
		{"trusted certificate, allowed name", []string{"kube-apiserver"}, trusted, 200},
		{"trusted certificate, other name", []string{"apiserver.example"}, trusted, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts, c, _ := tlsServer(t, Options{Reviewer: fakeReviewer{}, ClientCAs: pool, ClientNames: tt.names})
			if tt.cert != nil {
				c.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{*tt.cert}
			}
			resp, err := c.Post(ts.URL+ReviewPath, "application/json", bytes.NewReader(reviewBody(t, "u", "ok")))
			status := 0
			if err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			if status != tt.want {
				t.Errorf("review: HTTP %d (%v), want %d", status, err, tt.want)
			}
			if tt.cert == nil {
				resp, err := c.Get(ts.URL + "/healthz")
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("probe without a certificate: %v", err)
				} else {
					resp.Body.Close()
				}
			}
		})
	}
}
