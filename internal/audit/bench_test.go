package audit

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkReadLog reads and judges a generated log
// (go run ./tools/auditgen -n 50000 -out /tmp/audit-50k.log; set
// KUBEGUARD_AUDIT_LOG to another file).
func BenchmarkReadLog(b *testing.B) {
	path := os.Getenv("KUBEGUARD_AUDIT_LOG")
	if path == "" {
		path = "/tmp/audit-50k.log"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no log to read: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := NewDetector(DetectOptions{})
		if _, err := ReadLog("a.log", bytes.NewReader(data), Filter{}, d); err != nil {
			b.Fatal(err)
		}
		d.Findings()
	}
}
