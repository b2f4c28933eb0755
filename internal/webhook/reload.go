package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/kubeguard/kubeguard/internal/config"
)

// watched is a set of files polled for changes. Polling the content's hash
// rather than watching inotify events works the same for a file rewritten
// in place, renamed over, or swapped by the symlink dance of a mounted
// Secret (..data -> ..2026_01_01...), and needs no dependency.
type watched struct {
	paths []string
	sum   [sha256.Size]byte
}

// changed reads the files and reports whether their content changed since
// the last call; the first call reports true. Unreadable files are an
// error, and the last good state is kept.
func (w *watched) changed() (bool, [][]byte, error) {
	h := sha256.New()
	datas := make([][]byte, len(w.paths))
	for i, p := range w.paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return false, nil, err
		}
		datas[i] = b
		h.Write(b)
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	if bytes.Equal(sum[:], w.sum[:]) {
		return false, nil, nil
	}
	w.sum = sum
	return true, datas, nil
}

// CertReloader serves the certificate and key in two files and reloads
// them when they change. A handshake takes whichever pair is current;
// connections already open keep theirs, so a rotation drops no request.
// A pair that does not load (cert-manager writes the two files one after
// the other) is retried at the next poll and the previous pair stays.
type CertReloader struct {
	files   watched
	cert    atomic.Pointer[tls.Certificate]
	log     *slog.Logger
	metrics *Metrics
}

// NewCertReloader loads the pair once; it fails when it cannot.
func NewCertReloader(certFile, keyFile string, log *slog.Logger, m *Metrics) (*CertReloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics()
	}
	r := &CertReloader{files: watched{paths: []string{certFile, keyFile}}, log: log, metrics: m}
	if _, err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload loads the pair if the files changed.
func (r *CertReloader) reload() (bool, error) {
	changed, data, err := r.files.changed()
	if err != nil || !changed {
		return false, err
	}
	c, err := tls.X509KeyPair(data[0], data[1])
	if err != nil {
		// Half written: the second file's change brings a new hash and
		// another try.
		return false, fmt.Errorf("load certificate %s and key %s: %w", r.files.paths[0], r.files.paths[1], err)
	}
	r.cert.Store(&c)
	return true, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// Run polls the files every interval until ctx is done.
func (r *CertReloader) Run(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() {
		ok, err := r.reload()
		switch {
		case err != nil:
			r.metrics.reloadErrors.Inc()
			r.log.Warn("serving certificate not reloaded; the previous one stays", "error", err.Error())
		case ok:
			r.metrics.certReloads.Inc()
			r.log.Info("serving certificate reloaded", "cert", r.files.paths[0])
		}
	})
}

func poll(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// ConfigReloader holds the kubeguard configuration file and reloads it
// when it changes; it is an admission.ConfigSource. A file that no longer
// parses is logged and the previous configuration stays, so that a typo
// does not drop every exemption at once.
type ConfigReloader struct {
	files   watched
	known   func(id string) bool
	cfg     atomic.Pointer[config.Config]
	log     *slog.Logger
	metrics *Metrics
}

// NewConfigReloader loads the file once; known tells check IDs apart from
// typos, as for scan.
func NewConfigReloader(path string, known func(id string) bool, log *slog.Logger, m *Metrics) (*ConfigReloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics()
	}
	r := &ConfigReloader{files: watched{paths: []string{path}}, known: known, log: log, metrics: m}
	if _, err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *ConfigReloader) reload() (bool, error) {
	changed, data, err := r.files.changed()
	if err != nil || !changed {
		return false, err
	}
	c, err := config.Parse(r.files.paths[0], data[0], r.known)
	if err != nil {
		return false, err
	}
	r.cfg.Store(c)
	return true, nil
}

// Current returns the configuration last loaded.
func (r *ConfigReloader) Current() *config.Config { return r.cfg.Load() }

// Run polls the file every interval until ctx is done.
func (r *ConfigReloader) Run(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() {
		ok, err := r.reload()
		switch {
		case err != nil:
			r.metrics.reloadErrors.Inc()
			r.log.Warn("configuration not reloaded; the previous one stays", "error", err.Error())
		case ok:
			r.metrics.configReloads.Inc()
			r.log.Info("configuration reloaded", "path", r.files.paths[0], "exemptions", len(r.cfg.Load().Exemptions))
		}
	})
}
