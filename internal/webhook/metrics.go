package webhook

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts what the server does, with the Prometheus client library
// and its standard process and Go runtime collectors, on a registry of its
// own (never the global one, so that two servers in one test do not share
// counts). It implements admission.Recorder.
type Metrics struct {
	registry  *prometheus.Registry
	handler   http.Handler
	decisions *prometheus.CounterVec
	requests  *prometheus.CounterVec
	duration  prometheus.Histogram

	certReloads, configReloads, reloadErrors prometheus.Counter

	// inflight reads the body bytes of the reviews in flight; set by the
	// server that records into these metrics, before it serves.
	inflight func() int64
}

// NewMetrics returns empty metrics with latency buckets from 100µs to 10s:
// admission answers in well under a millisecond, the API server gives up
// after its timeout.
func NewMetrics() *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeguard_admission_decisions_total",
			Help: "Admission decisions by mode (enforce, audit, warn, exemption, error, checks, workload), level and result.",
		}, []string{"mode", "level", "result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubeguard_admission_requests_total",
			Help: "Admission reviews answered, by outcome (allowed, denied, error, throttled: turned away over the memory budget or with no worker free).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubeguard_admission_request_duration_seconds",
			Help:    "Time from reading a review to writing its answer.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}),
		certReloads:   counter("kubeguard_webhook_certificate_reloads_total", "Serving certificates loaded after a change of the files."),
		configReloads: counter("kubeguard_webhook_config_reloads_total", "Configuration files loaded after a change."),
		reloadErrors:  counter("kubeguard_webhook_reload_errors_total", "Changed certificate or configuration files that could not be loaded (the previous one stays)."),
	}
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kubeguard_webhook_inflight_body_bytes",
		Help: "Body bytes of the reviews in flight, counted against --max-inflight-bytes.",
	}, func() float64 {
		if m.inflight == nil {
			return 0
		}
		return float64(m.inflight())
	})
	m.registry.MustRegister(m.decisions, m.requests, m.duration, m.certReloads, m.configReloads, m.reloadErrors, inflight,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector())
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// Record counts one admission decision.
func (m *Metrics) Record(mode, level, result string) {
	m.decisions.WithLabelValues(mode, level, result).Inc()
}

// request counts one review request by outcome (allowed, denied, error)
// and its latency.
func (m *Metrics) request(outcome string, d time.Duration) {
	m.requests.WithLabelValues(outcome).Inc()
	m.duration.Observe(d.Seconds())
}

// ServeHTTP writes the metrics in the format the scraper asks for.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}
