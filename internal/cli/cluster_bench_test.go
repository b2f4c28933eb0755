package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cluster/clustertest"
)

// benchPods is the number of pods BenchmarkClusterPods serves; set
// KUBEGUARD_BENCH_PODS to compare sizes (memory should not follow).
func benchPods() int {
	if n, err := strconv.Atoi(os.Getenv("KUBEGUARD_BENCH_PODS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// fakePods serves n pods from a fake paginating API server on 127.0.0.1,
// made one page at a time. With owned, they belong to 200 Deployments
// (through their ReplicaSets), as on a real cluster; otherwise every pod
// is bare and is checked on its own.
func fakePods(b *testing.B, n int, owned bool) *clustertest.Server {
	const deployments = 200
	s := clustertest.New(b)
	for ns := range 10 {
		s.Add(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": fmt.Sprint("ns-", ns), "uid": fmt.Sprint("ns-", ns)}})
	}
	template := func(app string) map[string]any {
		return map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"app": app}},
			"spec": map[string]any{"containers": []any{map[string]any{
				"name": "app", "image": "registry.example/app:1.0",
				"resources": map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}},
			}}},
		}
	}
	if owned {
		for d := range deployments {
			ns, name := fmt.Sprint("ns-", d%10), fmt.Sprint("app-", d)
			s.Add(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": name, "namespace": ns, "uid": "d-" + name},
				"spec":     map[string]any{"template": template(name)}})
			s.Add(map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet",
				"metadata": map[string]any{"name": name + "-5f8c", "namespace": ns, "uid": "rs-" + name,
					"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": "d-" + name, "controller": true}}},
				"spec": map[string]any{"template": template(name)}})
		}
	}
	s.Generate("pods", clustertest.Generated{N: n, Make: func(i int) map[string]any {
		d := i % deployments
		app := fmt.Sprint("app-", d)
		t := template(app)
		meta := map[string]any{
			"name": fmt.Sprintf("%s-5f8c-%05d", app, i), "namespace": fmt.Sprint("ns-", d%10), "uid": fmt.Sprint("pod-", i),
			"labels": map[string]any{"app": app, "pod-template-hash": "5f8c"},
			// The bulk a real pod carries and checks never read.
			"managedFields": []any{map[string]any{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
				"fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:metadata": map[string]any{"f:labels": map[string]any{"f:app": map[string]any{}}},
					"f:spec": map[string]any{"f:containers": map[string]any{"k:{\"name\":\"app\"}": map[string]any{"f:image": map[string]any{}}}}}}},
		}
		if owned {
			meta["ownerReferences"] = []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": app + "-5f8c", "uid": "rs-" + app, "controller": true}}
		}
		spec := t["spec"].(map[string]any)
		spec["nodeName"] = fmt.Sprint("node-", i%50)
		spec["serviceAccountName"] = "default"
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
			"status": map[string]any{"phase": "Running", "podIP": "10.1.2.3", "conditions": []any{
				map[string]any{"type": "Ready", "status": "True"}, map[string]any{"type": "PodScheduled", "status": "True"}}}}
	}})
	return s
}

// peakHeap samples the heap in use until stop is closed, and returns the
// highest sample in MiB.
func peakHeap(stop <-chan struct{}) func() float64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 { <-done; return float64(peak.Load()) / (1 << 20) }
}

// BenchmarkClusterPods runs kubeguard cluster, JSON to nowhere, over a fake
// cluster of benchPods() pods; it reports the peak heap in use. Measure
// the process's peak RSS with /usr/bin/time -v (BENCHMARKS.md).
func BenchmarkClusterPods(b *testing.B) {
	for _, owned := range []bool{true, false} {
		name := "owned"
		if !owned {
			name = "bare"
		}
		b.Run(name, func(b *testing.B) {
			n := benchPods()
			s := fakePods(b, n, owned)
			args := []string{"cluster", "--kubeconfig", s.Kubeconfig, "-o", "json", "--qps", "1000", "--burst", "1000"}
			runtime.GC()
			stop := make(chan struct{})
			peak := peakHeap(stop)
			for b.Loop() {
				if code := Run(context.Background(), args, IO{Stdout: io.Discard, Stderr: io.Discard}); code == ExitError {
					b.Fatalf("exit %d", code)
				}
			}
			close(stop)
			b.ReportMetric(peak(), "peak-heap-MiB")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
		})
	}
}
