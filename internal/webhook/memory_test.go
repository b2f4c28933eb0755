package webhook

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeguard/kubeguard/internal/admission"
	"github.com/kubeguard/kubeguard/internal/checks"
)

// memChildEnv makes the test binary run as the measured server.
const memChildEnv = "KUBEGUARD_WEBHOOK_MEMORY_CHILD"

// TestMemoryUnderParallelLargeReviews sends 40 reviews of 7 MB at once,
// as any pod that can reach the webhook could, to a server configured as
// deploy/ runs it (GOMEMLIMIT 200MiB, GOGC 400, the default budget) with
// the real reviewer and the catalogue in deny mode. Its peak resident
// memory must stay under deploy/'s 256Mi limit, and every review must be
// answered: served, or turned away with 429. It runs in a child process,
// so that the peak is the server's alone.
func TestMemoryUnderParallelLargeReviews(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 280 MB of reviews")
	}
	if os.Getenv(memChildEnv) != "" {
		memoryChild(t)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestMemoryUnderParallelLargeReviews$", "-test.v")
	cmd.Env = append(os.Environ(), memChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var peak int64
	var statuses string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "peak-rss-kib "); ok {
			peak, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "statuses "); ok {
			statuses = v
		}
	}
	t.Logf("peak RSS %d MiB; answers %s", peak>>10, statuses)
	if peak == 0 {
		t.Fatalf("no measurement from the child:\n%s", out)
	}
	if peak > 256<<10 {
		t.Errorf("peak RSS %d MiB, over the deployment's limit of 256 MiB", peak>>10)
	}
	if statuses == "" || strings.ContainsAny(strings.NewReplacer("200:", "", "429:", "").Replace(statuses), ":") {
		t.Errorf("answers other than 200 and 429: %s", statuses)
	}
}

// largeReview is a ConfigMap creation of about size bytes.
func largeReview(t testing.TB, size int) []byte {
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "team"}, Data: map[string]string{}}
	val := strings.Repeat("v", 300)
	for i := 0; i < size/320; i++ {
		cm.Data[fmt.Sprintf("key-%07d", i)] = val
	}
	obj, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: reviewTypeMeta, Request: &admissionv1.AdmissionRequest{
		UID: "big", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Resource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		Name: "big", Namespace: "team", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: obj}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func memoryChild(t *testing.T) {
	debug.SetMemoryLimit(200 << 20)
	debug.SetGCPercent(400)
	body := largeReview(t, 7<<20-1024)
	dir := t.TempDir()
	pool := devCerts(t, dir)
	certs, err := NewCertReloader(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	cl := labelledCluster{"pod-security.kubernetes.io/enforce": "restricted", admission.ModeLabel: "deny"}
	r, err := admission.New(admission.Config{Namespaces: cl, Pods: cl, Checks: all})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Reviewer: r, Certificates: certs})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serve(t, s)
	defer func() { _ = stop() }()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxConnsPerHost: 0}}
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			// One body shared by every request: the client holds 7 MB, not 280.
			resp, err := client.Post("https://"+addr+ReviewPath+"?timeout=30s", "application/json", bytes.NewReader(body))
			code := -1
			if err == nil {
				code = resp.StatusCode
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			counts[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("peak-rss-kib %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	var parts []string
	for code, n := range counts {
		parts = append(parts, fmt.Sprintf("%d:%d", code, n))
	}
	fmt.Printf("statuses %s\n", strings.Join(parts, " "))
}
