package webhook

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics counts what the server does and writes it in the Prometheus text
// exposition format (version 0.0.4). It is written here rather than taken
// from client_golang: a few counters and one histogram do not justify the
// dependency. It implements admission.Recorder.
type Metrics struct {
	mu        sync.Mutex
	decisions map[[3]string]uint64 // mode, level, result
	requests  map[string]uint64    // outcome

	buckets []float64       // upper bounds, seconds
	counts  []atomic.Uint64 // per bucket, not cumulative; last is +Inf
	sumNano atomic.Uint64
	total   atomic.Uint64

	certReloads, configReloads, reloadErrors atomic.Uint64

	// inflight reads the body bytes of the reviews in flight; set by the
	// server that records into these metrics.
	inflight func() int64
}

// NewMetrics returns empty metrics with latency buckets from 100µs to 10s:
// admission answers in well under a millisecond, the API server gives up
// after its timeout.
func NewMetrics() *Metrics {
	b := []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	return &Metrics{decisions: map[[3]string]uint64{}, requests: map[string]uint64{}, buckets: b, counts: make([]atomic.Uint64, len(b)+1)}
}

// Record counts one admission decision.
func (m *Metrics) Record(mode, level, result string) {
	m.mu.Lock()
	m.decisions[[3]string{mode, level, result}]++
	m.mu.Unlock()
}

// request counts one review request by outcome (allowed, denied, error)
// and its latency.
func (m *Metrics) request(outcome string, d time.Duration) {
	m.mu.Lock()
	m.requests[outcome]++
	m.mu.Unlock()
	s := d.Seconds()
	i, _ := slices.BinarySearch(m.buckets, s)
	m.counts[i].Add(1)
	m.sumNano.Add(uint64(d.Nanoseconds()))
	m.total.Add(1)
}

// ServeHTTP writes the metrics.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = m.Write(w)
}

// Write writes the metrics in the text format, series sorted so that the
// output is stable.
func (m *Metrics) Write(w io.Writer) error {
	var b strings.Builder
	m.mu.Lock()
	dkeys := make([][3]string, 0, len(m.decisions))
	for k := range m.decisions {
		dkeys = append(dkeys, k)
	}
	slices.SortFunc(dkeys, func(a, b [3]string) int {
		return strings.Compare(a[0]+"\x00"+a[1]+"\x00"+a[2], b[0]+"\x00"+b[1]+"\x00"+b[2])
	})
	b.WriteString("# HELP kubeguard_admission_decisions_total Admission decisions by mode (enforce, audit, warn, exemption, error, checks, workload), level and result.\n")
	b.WriteString("# TYPE kubeguard_admission_decisions_total counter\n")
	for _, k := range dkeys {
		fmt.Fprintf(&b, "kubeguard_admission_decisions_total{mode=%s,level=%s,result=%s} %d\n", quote(k[0]), quote(k[1]), quote(k[2]), m.decisions[k])
	}
	okeys := make([]string, 0, len(m.requests))
	for k := range m.requests {
		okeys = append(okeys, k)
	}
	slices.Sort(okeys)
	b.WriteString("# HELP kubeguard_admission_requests_total Admission reviews answered, by outcome (allowed, denied, error, throttled: turned away over the memory budget or with no worker free).\n")
	b.WriteString("# TYPE kubeguard_admission_requests_total counter\n")
	for _, k := range okeys {
		fmt.Fprintf(&b, "kubeguard_admission_requests_total{outcome=%s} %d\n", quote(k), m.requests[k])
	}
	m.mu.Unlock()

	b.WriteString("# HELP kubeguard_admission_request_duration_seconds Time from reading a review to writing its answer.\n")
	b.WriteString("# TYPE kubeguard_admission_request_duration_seconds histogram\n")
	var cum uint64
	for i, ub := range m.buckets {
		cum += m.counts[i].Load()
		fmt.Fprintf(&b, "kubeguard_admission_request_duration_seconds_bucket{le=%q} %d\n", strconv.FormatFloat(ub, 'g', -1, 64), cum)
	}
	cum += m.counts[len(m.buckets)].Load()
	fmt.Fprintf(&b, "kubeguard_admission_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", cum)
	fmt.Fprintf(&b, "kubeguard_admission_request_duration_seconds_sum %s\n", strconv.FormatFloat(float64(m.sumNano.Load())/1e9, 'g', -1, 64))
	fmt.Fprintf(&b, "kubeguard_admission_request_duration_seconds_count %d\n", m.total.Load())

	for _, c := range []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"kubeguard_webhook_certificate_reloads_total", "Serving certificates loaded after a change of the files.", &m.certReloads},
		{"kubeguard_webhook_config_reloads_total", "Configuration files loaded after a change.", &m.configReloads},
		{"kubeguard_webhook_reload_errors_total", "Changed certificate or configuration files that could not be loaded (the previous one stays).", &m.reloadErrors},
	} {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v.Load())
	}
	if m.inflight != nil {
		b.WriteString("# HELP kubeguard_webhook_inflight_body_bytes Body bytes of the reviews in flight, counted against --max-inflight-bytes.\n")
		b.WriteString("# TYPE kubeguard_webhook_inflight_body_bytes gauge\n")
		fmt.Fprintf(&b, "kubeguard_webhook_inflight_body_bytes %d\n", m.inflight())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// quote writes a label value with the text format's escapes.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
