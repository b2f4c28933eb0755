// Command loadgen replays realistic AdmissionReviews over TLS at fixed
// rates against an admission webhook and reports throughput and latency
// quantiles, one table row per rate.
//
//	go run ./tools/loadgen --url https://127.0.0.1:8443/validate --ca certs/ca.crt \
//	    --namespaces team-a,team-b --rates 500,1000,2000,4000 --duration 10s
//
// The namespaces must exist, with Pod Security labels, on the API server
// the webhook watches. Only loopback addresses are accepted: this is a
// benchmark for this machine, not a tool to point at other hosts.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/tools/loadgen/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	target := fs.String("url", "https://127.0.0.1:8443/validate", "webhook `URL` (loopback only)")
	caFile := fs.String("ca", "", "CA `file` that signed the webhook's certificate")
	name := fs.String("name", "webhook", "server name for the table")
	nss := fs.String("namespaces", "default", "comma-separated `namespaces` the reviews name")
	rates := fs.String("rates", "500,1000,2000", "comma-separated request `rates` per second")
	duration := fs.Duration("duration", 10*time.Second, "how long each rate runs")
	workers := fs.Int("workers", 64, "requests in flight at most")
	conns := fs.Int("connections", 8, "TLS connections (HTTP/1.1 keep-alive)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("--url must be https://")
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--url must name a loopback address, not %s", u.Hostname())
	}
	pool := x509.NewCertPool()
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no certificate", *caFile)
		}
	}
	var rs []int
	for _, s := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			return fmt.Errorf("bad rate %q", s)
		}
		rs = append(rs, r)
	}
	bodies, err := load.Mix(strings.Split(*nss, ","), 1000)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, IdleConnTimeout: time.Minute,
	}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Warm up connections and caches.
	load.Run(ctx, client, *target, bodies, 200, time.Second, *workers)
	fmt.Println(load.Header)
	for _, r := range rs {
		fmt.Println(load.Run(ctx, client, *target, bodies, r, *duration, *workers).Row(*name))
	}
	return nil
}
