// Package webhook serves admission reviews over TLS: certificate reload,
// request limits, timeouts, panic recovery, graceful shutdown, health,
// readiness and metrics. Decisions are package admission's.
package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kjson "sigs.k8s.io/json"
)

// Reviewer decides one admission request; *admission.Reviewer is one.
type Reviewer interface {
	Review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse
}

// Defaults for Options' zero values.
const (
	// DefaultMaxBodyBytes bounds a review: an object and its old version,
	// each at most the API server's request limit of 3 MiB.
	DefaultMaxBodyBytes = 7 << 20
	// DefaultTimeout applies when a request has no ?timeout=; the API
	// server always sends one, from the webhook's timeoutSeconds.
	DefaultTimeout = 10 * time.Second
	// MaxTimeout caps ?timeout=: timeoutSeconds is at most 30.
	MaxTimeout = 30 * time.Second
	// DefaultShutdownTimeout bounds the drain of in-flight requests.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultMaxInflightBytes bounds the body bytes of the reviews in
	// flight: four of the largest reviews, thousands of ordinary ones.
	// Under deploy/'s settings (GOMEMLIMIT 200MiB, memory limit 256Mi)
	// 40 parallel reviews of 7 MB peak at 221 MiB resident with it, and
	// at 626 MiB without (TestMemoryUnderParallelLargeReviews,
	// BENCHMARKS.md).
	DefaultMaxInflightBytes = 32 << 20
	// DefaultQueueWait is how long a review waits for its share of the
	// memory budget, or for a worker, before it is turned away.
	DefaultQueueWait = time.Second
)

// DefaultMaxReviews is how many reviews run at once when
// Options.MaxReviews is zero: reviews are CPU-bound, and more than a few
// per core only queue inside the scheduler.
func DefaultMaxReviews() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// ReviewPath is where reviews are posted.
const ReviewPath = "/validate"

// Options configure a Server.
type Options struct {
	Reviewer Reviewer
	// Certificates serves the TLS certificate; see CertReloader.
	Certificates interface {
		GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	}
	// Ready reports whether the caches the reviewer reads have synced;
	// /readyz fails until it does. Nil means always ready.
	Ready   func() bool
	Metrics *Metrics
	Logger  *slog.Logger
	// MaxBodyBytes bounds a review's body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// DefaultTimeout applies without ?timeout=; DefaultTimeout when zero.
	DefaultTimeout time.Duration
	// ShutdownDelay is how long the server keeps serving, not ready, after
	// being told to stop, so that endpoints drop it before it closes its
	// listener. Zero stops at once.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests;
	// DefaultShutdownTimeout when zero.
	ShutdownTimeout time.Duration
	// MaxInflightBytes bounds the body bytes of the reviews being read,
	// decoded or reviewed at once; DefaultMaxInflightBytes when zero. A
	// review that does not fit waits up to QueueWait, then is answered
	// 429 Too Many Requests, which the API server treats as a failed call
	// (the webhook's failurePolicy decides), instead of the server being
	// killed for its memory.
	MaxInflightBytes int64
	// MaxReviews bounds the reviews running at once; DefaultMaxReviews()
	// when zero.
	MaxReviews int
	// QueueWait is how long a review waits for the memory budget or a
	// worker; DefaultQueueWait when zero.
	QueueWait time.Duration
	// ClientCAs, when set, make reviews require a client certificate
	// signed by one of them (the API server's, configured through its
	// AdmissionConfiguration; see deploy/README.md). Health, readiness
	// and metrics stay open to clients without one, such as the kubelet.
	ClientCAs *x509.CertPool
	// ClientNames, when set with ClientCAs, are the only subject common
	// names or DNS names accepted from a client certificate.
	ClientNames []string
}

// Server is the webhook's HTTPS server.
type Server struct {
	o        Options
	draining atomic.Bool
	workers  *workers
	budget   *budget
}

// New checks the options and fills in defaults.
func New(o Options) (*Server, error) {
	if o.Reviewer == nil {
		return nil, errors.New("webhook: a reviewer is required")
	}
	if o.Certificates == nil {
		return nil, errors.New("webhook: a certificate source is required (TLS only)")
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Ready == nil {
		o.Ready = func() bool { return true }
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.MaxInflightBytes <= 0 {
		o.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if o.MaxInflightBytes < o.MaxBodyBytes {
		return nil, fmt.Errorf("webhook: the in-flight budget (%d bytes) is smaller than one review (%d bytes)", o.MaxInflightBytes, o.MaxBodyBytes)
	}
	if o.MaxReviews <= 0 {
		o.MaxReviews = DefaultMaxReviews()
	}
	if o.QueueWait <= 0 {
		o.QueueWait = DefaultQueueWait
	}
	if len(o.ClientNames) > 0 && o.ClientCAs == nil {
		return nil, errors.New("webhook: client names need client CAs")
	}
	s := &Server{o: o, workers: newWorkers(o.MaxReviews), budget: newBudget(o.MaxInflightBytes)}
	o.Metrics.inflight = s.budget.inUse.Load
	return s, nil
}

// aeadSuites are the TLS 1.2 cipher suites offered: forward secret and
// authenticated encryption only (the suites of TLS 1.3, which Go does not
// let one configure). Go's default list still has the CBC-SHA1 ones.
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// TLSConfig is the server's TLS configuration: TLS 1.2 or later with
// AEAD suites only, the certificate from the reloader at every handshake,
// and, with ClientCAs, client certificates verified when given (reviews
// then refuse a request without one; probes have none).
func (s *Server) TLSConfig() *tls.Config {
	c := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   aeadSuites,
		GetCertificate: s.o.Certificates.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if s.o.ClientCAs != nil {
		c.ClientCAs = s.o.ClientCAs
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c
}

// clientAllowed reports whether a review's client may be served: always
// without ClientCAs, else only with a verified certificate, of one of
// ClientNames when those are set.
func (s *Server) clientAllowed(r *http.Request) bool {
	if s.o.ClientCAs == nil {
		return true
	}
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return false
	}
	if len(s.o.ClientNames) == 0 {
		return true
	}
	leaf := r.TLS.VerifiedChains[0][0]
	return slices.Contains(s.o.ClientNames, leaf.Subject.CommonName) ||
		slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return slices.Contains(s.o.ClientNames, n) })
}

// Handler routes reviews, health, readiness and metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(ReviewPath, s.serveReview)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case s.draining.Load():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		case !s.o.Ready():
			http.Error(w, "namespace cache not synced", http.StatusServiceUnavailable)
		default:
			_, _ = io.WriteString(w, "ok\n")
		}
	})
	mux.Handle("/metrics", s.o.Metrics)
	return mux
}

// Serve serves HTTPS on ln until ctx is done, then stops being ready,
// waits ShutdownDelay, and closes once in-flight requests have been
// answered (or ShutdownTimeout passed).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       MaxTimeout + 10*time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.o.Logger.Info("shutting down: not ready, draining in-flight requests", "delay", s.o.ShutdownDelay.String())
	if s.o.ShutdownDelay > 0 {
		time.Sleep(s.o.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.o.Logger.Info("stopped")
	return nil
}

var reviewTypeMeta = metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"}

// reviewError is a request that gets no decision, only an error.
type reviewError struct {
	code int // HTTP status for the Result, and for the reply when uid is unknown
	msg  string
}

func (s *Server) serveReview(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	uid, resp, rerr := s.review(w, r)
	outcome := "allowed"
	switch {
	case rerr != nil:
		outcome = "error"
		resp = &admissionv1.AdmissionResponse{UID: uid, Allowed: false, Result: &metav1.Status{
			Status: metav1.StatusFailure, Code: int32(rerr.code), Message: "kubeguard webhook: " + rerr.msg,
			Reason: metav1.StatusReason(http.StatusText(rerr.code))}}
	case !resp.Allowed:
		outcome = "denied"
	}
	status := http.StatusOK
	if rerr != nil && (uid == "" || rerr.code == http.StatusGatewayTimeout || rerr.code == http.StatusTooManyRequests) {
		// Without a UID the API server cannot take the answer as a
		// decision; and a review that ran out of time or was turned
		// away for load is the API server's failurePolicy to decide,
		// not a denial.
		status = rerr.code
	}
	if status == http.StatusTooManyRequests {
		outcome = "throttled"
		w.Header().Set("Retry-After", "1")
	}
	body, err := json.Marshal(&admissionv1.AdmissionReview{TypeMeta: reviewTypeMeta, Response: resp})
	if err != nil {
		http.Error(w, "kubeguard webhook: encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	d := time.Since(start)
	s.o.Metrics.request(outcome, d)
	level := slog.LevelDebug
	if outcome != "allowed" {
		level = slog.LevelInfo
	}
	if !s.o.Logger.Enabled(r.Context(), level) {
		return // most reviews, at the default level: build no record
	}
	attrs := []any{"uid", string(uid), "outcome", outcome, "duration_ms", float64(d.Microseconds()) / 1000}
	if resp.Result != nil {
		attrs = append(attrs, "code", resp.Result.Code, "message", resp.Result.Message)
	}
	s.o.Logger.Log(r.Context(), level, "admission review", attrs...)
}

// decodeReview decodes a review as the API server decodes JSON: names are
// case-sensitive (a field spelt "Object" is not "object"), unknown fields
// are ignored, and of duplicate names the last wins (sigs.k8s.io/json).
// It tries encoding/json/v2 first, which does the same on a review without
// duplicate names and with valid UTF-8, what the API server sends, in a
// third of the time; it refuses every other review, and those go to
// sigs.k8s.io/json, whose answer, error included, stands.
// FuzzDecodeReview holds the two to each other.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	review := new(admissionv1.AdmissionReview)
	if jsonv2.Unmarshal(body, review) == nil {
		return review, nil
	}
	*review = admissionv1.AdmissionReview{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(body, review); err != nil {
		return nil, err
	}
	return review, nil
}

// review reads, decodes and decides one request.
func (s *Server) review(w http.ResponseWriter, r *http.Request) (types.UID, *admissionv1.AdmissionResponse, *reviewError) {
	if r.Method != http.MethodPost {
		return "", nil, &reviewError{http.StatusMethodNotAllowed, "reviews are POSTed"}
	}
	if !s.clientAllowed(r) {
		return "", nil, &reviewError{http.StatusUnauthorized, "reviews need a client certificate the server trusts"}
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		return "", nil, &reviewError{http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: want application/json", r.Header.Get("Content-Type"))}
	}
	timeout := s.o.DefaultTimeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		if t, err := time.ParseDuration(v); err == nil && t > 0 {
			timeout = min(t, MaxTimeout)
		} else {
			s.o.Logger.Debug("invalid timeout ignored", "timeout", v)
		}
	}
	// Answer a little before the API server gives up, so that it reads
	// the answer instead of its own timeout.
	timeout -= min(timeout/10, 250*time.Millisecond)
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	// The body's share of the memory budget: its announced length, or
	// the most a review may have when it is sent in chunks.
	if r.ContentLength > s.o.MaxBodyBytes {
		return "", nil, &reviewError{http.StatusRequestEntityTooLarge, fmt.Sprintf("review is over the limit of %d bytes", s.o.MaxBodyBytes)}
	}
	share := s.o.MaxBodyBytes
	if r.ContentLength >= 0 {
		share = r.ContentLength
	}
	wctx, wcancel := context.WithTimeout(ctx, s.o.QueueWait)
	err := s.budget.acquire(wctx, share)
	wcancel()
	if err != nil {
		return "", nil, &reviewError{http.StatusTooManyRequests, "too many reviews in flight: over the server's memory budget, try again"}
	}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { s.budget.release(share) }) }
	dispatched := false
	defer func() {
		if !dispatched {
			release()
		}
	}()
	// A body trickled in slowly holds its share only until the review's
	// deadline, not the server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, share))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return "", nil, &reviewError{http.StatusRequestEntityTooLarge, fmt.Sprintf("review is over the limit of %d bytes", s.o.MaxBodyBytes)}
		}
		return "", nil, &reviewError{http.StatusBadRequest, "read review: " + err.Error()}
	}
	review, err := decodeReview(body)
	if err != nil {
		return "", nil, &reviewError{http.StatusBadRequest, "decode review: " + err.Error()}
	}
	if review.Request == nil {
		return "", nil, &reviewError{http.StatusBadRequest, "review has no request"}
	}
	uid := review.Request.UID
	if review.APIVersion != reviewTypeMeta.APIVersion || review.Kind != reviewTypeMeta.Kind {
		return uid, nil, &reviewError{http.StatusBadRequest, fmt.Sprintf("got %s %s, want %s AdmissionReview (admissionReviewVersions: [v1])", review.APIVersion, review.Kind, reviewTypeMeta.APIVersion)}
	}
	if uid == "" {
		return "", nil, &reviewError{http.StatusBadRequest, "request has no uid"}
	}

	type result struct {
		resp  *admissionv1.AdmissionResponse
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	wctx, wcancel = context.WithTimeout(ctx, s.o.QueueWait)
	defer wcancel()
	dispatched = s.workers.do(wctx, func() {
		// The decoded review is the worker's until it returns: its
		// memory stays counted until then.
		defer release()
		defer func() {
			if p := recover(); p != nil {
				done <- result{panic: p, stack: debug.Stack()}
			}
		}()
		done <- result{resp: s.o.Reviewer.Review(ctx, review.Request)}
	})
	if !dispatched {
		if ctx.Err() != nil {
			return uid, nil, &reviewError{http.StatusGatewayTimeout, fmt.Sprintf("review did not finish within %s", timeout)}
		}
		return uid, nil, &reviewError{http.StatusTooManyRequests, "too many reviews in flight: no worker free, try again"}
	}
	select {
	case res := <-done:
		if res.panic != nil {
			s.o.Logger.Error("review panicked", "uid", string(uid), "panic", fmt.Sprint(res.panic), "stack", string(res.stack))
			return uid, nil, &reviewError{http.StatusInternalServerError, "internal error while reviewing the request (logged)"}
		}
		res.resp.UID = uid
		return uid, res.resp, nil
	case <-ctx.Done():
		return uid, nil, &reviewError{http.StatusGatewayTimeout, fmt.Sprintf("review did not finish within %s", timeout)}
	}
}
