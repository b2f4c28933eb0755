package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestLargeCluster seeds KUBEGUARD_E2E_PODS pods (owned by 100 Deployments
// through their ReplicaSets) into the real API server and runs the
// kubeguard binary over it under /usr/bin/time, logging its peak RSS. It
// is opt-in: seeding tens of thousands of pods takes minutes.
func TestLargeCluster(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KUBEGUARD_E2E_PODS"))
	if n <= 0 {
		t.Skip("set KUBEGUARD_E2E_PODS to seed that many pods")
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("no /usr/bin/time")
	}
	ns := srv.Namespace(t, "large", nil).Name
	const deployments = 100
	ctx := t.Context()
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1.0"}}}
	rsUIDs := make([]metav1.OwnerReference, deployments)
	for d := range deployments {
		name := fmt.Sprint("app-", d)
		labels := map[string]string{"app": name}
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
		dep, err := srv.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := srv.Client.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-5f8c", OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: dep.UID, Controller: ptr.To(true)}}},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rsUIDs[d] = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				d := i % deployments
				_, err := srv.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%d-5f8c-%06d", d, i), Labels: map[string]string{"app": fmt.Sprint("app-", d)},
						OwnerReferences: []metav1.OwnerReference{rsUIDs[d]}},
					Spec: spec,
				}, metav1.CreateOptions{})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("seeded %d pods in %s", n, time.Since(start).Round(time.Second))

	bin := filepath.Join(t.TempDir(), "kubeguard")
	build := exec.Command("go", "build", "-o", bin, "github.com/kubeguard/kubeguard/cmd/kubeguard")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command("/usr/bin/time", "-v", bin, "cluster", "--kubeconfig", kubeconfig(t, srv.URL, ""), "-n", ns, "-o", "json", "--output-file", os.DevNull)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() == 2) {
		t.Fatalf("kubeguard: %v\n%s", err, out)
	}
	rss := regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`).FindSubmatch(out)
	wall := regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)`).FindSubmatch(out)
	if rss == nil || wall == nil {
		t.Fatalf("no figures in:\n%s", out)
	}
	kb, _ := strconv.Atoi(string(rss[1]))
	t.Logf("kubeguard cluster over %d pods: wall %s, peak RSS %.1f MiB", n, wall[1], float64(kb)/1024)
}
