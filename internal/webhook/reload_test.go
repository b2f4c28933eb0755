package webhook

import (
	"context"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestConfigReloaderKeepsLastGoodConfiguration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeguard.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("exemptions:\n- checks: [pss-privileged]\n  namespace: mesh\n  reason: sidecar\n")
	m := NewMetrics()
	known := func(id string) bool { return id == "pss-privileged" }
	r, err := NewConfigReloader(path, known, nil, m)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		content    string
		exemptions int
		reloads    uint64
		errors     uint64
	}{
		{"unchanged file is not reloaded", "", 1, 0, 0},
		{"a second exemption", "exemptions:\n- checks: [pss-privileged]\n  namespace: mesh\n  reason: sidecar\n- checks: [pss-privileged]\n  namespace: cni\n  reason: agent\n", 2, 1, 0},
		{"a typo keeps the last good file", "exemptions:\n- checks: [pss-privilegd]\n  reason: typo\n", 2, 1, 1},
		{"an exemption without reason keeps it too", "exemptions:\n- checks: [pss-privileged]\n", 2, 1, 2},
		{"a fixed file loads", "exemptions: []\n", 0, 2, 2},
	}
	for _, s := range steps {
		if s.content != "" {
			write(s.content)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		r.Run(ctx, 10*time.Millisecond)
		cancel()
		if got := len(r.Current().Exemptions); got != s.exemptions {
			t.Errorf("%s: %d exemptions, want %d", s.name, got, s.exemptions)
		}
		if got := count(t, m.configReloads); got != s.reloads {
			t.Errorf("%s: %d reloads, want %d", s.name, got, s.reloads)
		}
		if got := count(t, m.reloadErrors); got != s.errors {
			t.Errorf("%s: %d reload errors, want %d", s.name, got, s.errors)
		}
	}
}

func TestCertReloaderKeepsPairUntilBothFilesMatch(t *testing.T) {
	dir := t.TempDir()
	devCerts(t, dir)
	certFile, keyFile := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	r, err := NewCertReloader(certFile, keyFile, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.GetCertificate(nil)
	ca, err := NewCA("next", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	next, err := ca.Issue([]string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, next.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.reload(); ok || err == nil {
		t.Fatalf("a key without its certificate loaded (ok=%v, err=%v)", ok, err)
	}
	if cur, _ := r.GetCertificate(nil); cur != first {
		t.Fatal("the serving pair changed while the files did not pair")
	}
	if err := os.WriteFile(certFile, next.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.reload(); !ok || err != nil {
		t.Fatalf("the new pair did not load: ok=%v, err=%v", ok, err)
	}
	cur, _ := r.GetCertificate(nil)
	if cur == first || string(cur.Certificate[0]) != string(next.Cert.Raw) {
		t.Error("the new certificate is not served")
	}
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	if _, err := r.reload(); err == nil {
		t.Error("a missing file is not reported")
	}
	if after, _ := r.GetCertificate(nil); after != cur {
		t.Error("a missing file dropped the serving pair")
	}
}

// count reads a counter's value.
func count(t *testing.T, c prometheus.Counter) uint64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return uint64(m.GetCounter().GetValue())
}
