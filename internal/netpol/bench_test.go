package netpol_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/netpol/netpoltest"
)

func largeNetwork(b *testing.B) *netpol.Network {
	b.Helper()
	path := filepath.Join(b.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, netpoltest.Generate(netpoltest.Large).YAML(), 0o644); err != nil {
		b.Fatal(err)
	}
	n, errs := load(b, path)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	return n
}

// BenchmarkMatrix is the matrix of the generated cluster (1,000
// workloads, 500 policies): a million pairs.
func BenchmarkMatrix(b *testing.B) {
	n := largeNetwork(b)
	b.ResetTimer()
	for b.Loop() {
		connected := 0
		n.Matrix(func(_, _ int, p netpol.PortSet) {
			if !p.Empty() {
				connected++
			}
		})
		if connected == 0 {
			b.Fatal("nothing connected")
		}
	}
}

// BenchmarkBuild is indexing the generated cluster, once loaded.
func BenchmarkBuild(b *testing.B) {
	path := filepath.Join(b.TempDir(), "cluster.yaml")
	os.WriteFile(path, netpoltest.Generate(netpoltest.Large).YAML(), 0o644)
	b.ResetTimer()
	for b.Loop() {
		load(b, path)
	}
}
