package webhook

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	kjson "sigs.k8s.io/json"

	"github.com/kubeguard/kubeguard/internal/admission"
	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/tools/loadgen/load"
)

// BenchmarkServe posts load.Mix's reviews to a running server over TLS
// from 8 keep-alive connections: the whole cost of a review, client and
// server, HTTP and TLS included, in one process. Profile the server side
// with -cpuprofile and pprof's -focus 'serveReview|Server'.
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	pool := devCerts(b, dir)
	certs, err := NewCertReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	// The namespaces of load.Mix's reviews enforce baseline and warn at
	// restricted, as in the end-to-end side-by-side benchmark.
	cl := labelledCluster{"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"}
	r, err := admission.New(admission.Config{Namespaces: cl, Pods: cl})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Reviewer: r, Certificates: certs})
	if err != nil {
		b.Fatal(err)
	}
	addr, stop := serve(b, s)
	defer func() { _ = stop() }()
	bodies, err := load.Mix([]string{"load0", "load1", "load2", "load3"}, 1000)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		MaxIdleConnsPerHost: 8, MaxConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	url := "https://" + addr + ReviewPath
	var next atomic.Int64
	b.SetParallelism(4) // 4 per core: enough to keep 8 connections busy
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Used()
	defer func() {
		b.ReportMetric(float64((cputime.Used()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[int(next.Add(1))%len(bodies)]
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("HTTP %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkDecodeReview decodes a pod creation review of load.Mix with
// sigs.k8s.io/json alone and with decodeReview.
func BenchmarkDecodeReview(b *testing.B) {
	bodies, err := load.Mix([]string{"ns"}, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sigs.k8s.io-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r admissionv1.AdmissionReview
			if err := kjson.UnmarshalCaseSensitivePreserveInts(bodies[0], &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeReview", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeReview(bodies[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
