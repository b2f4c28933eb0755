package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/webhook"
	"github.com/kubeguard/kubeguard/tools/loadgen/load"
)

// TestLoadSideBySide replays the same AdmissionReviews at fixed rates
// against the kubeguard binary and the upstream standalone webhook, each a
// separate process watching this package's API server, and logs one table.
// Between them runs the floor (testdata/floor), a server that only decodes
// each review's UID and allows it: what TLS, HTTP and this machine's
// scheduling cost before any webhook does its work.
// It is a benchmark, not a check: it runs only when
// KUBEGUARD_WEBHOOK_BENCH=<path of the upstream webhook binary> is set,
// for example
//
//	GOBIN=$(mktemp -d) go install k8s.io/pod-security-admission/cmd/webhook@v0.37.2
//	KUBEGUARD_WEBHOOK_BENCH=$GOBIN/webhook go test ./webhook -run TestLoadSideBySide -v
//
// KUBEGUARD_WEBHOOK_BENCH_RATES (default 500,1000,2000,4000) and
// KUBEGUARD_WEBHOOK_BENCH_DURATION (default 10s) tune it.
// KUBEGUARD_WEBHOOK_BENCH_ENV adds variables to both servers' environment
// (say GOGC=100), and KUBEGUARD_WEBHOOK_BENCH_CPUS runs both servers on
// those CPUs (taskset -c), to keep the load generator, which this test
// runs, off the server's core: run the test itself with taskset -c on the
// others.
func TestLoadSideBySide(t *testing.T) {
	upstream := os.Getenv("KUBEGUARD_WEBHOOK_BENCH")
	if upstream == "" {
		t.Skip("set KUBEGUARD_WEBHOOK_BENCH to the upstream webhook binary to run the side-by-side benchmark")
	}
	rates := []int{500, 1000, 2000, 4000}
	if v := os.Getenv("KUBEGUARD_WEBHOOK_BENCH_RATES"); v != "" {
		rates = nil
		for _, s := range strings.Split(v, ",") {
			r, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			rates = append(rates, r)
		}
	}
	duration := 10 * time.Second
	if v := os.Getenv("KUBEGUARD_WEBHOOK_BENCH_DURATION"); v != "" {
		var err error
		if duration, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	ca, _, err := webhook.WriteDevCerts(dir, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKubeconfig(filepath.Join(dir, "kubeconfig")); err != nil {
		t.Fatal(err)
	}
	// The kubeguard binary is built from the main module, with the
	// main module's dependencies (pod-security-admission v0.37.2, as the
	// upstream webhook).
	kubeguard := filepath.Join(dir, "kubeguard")
	build := exec.Command("go", "build", "-o", kubeguard, "./cmd/kubeguard")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build kubeguard: %v\n%s", err, out)
	}
	// The floor: TLS, HTTP and the UID, nothing else (testdata/floor).
	floor := filepath.Join(dir, "floor")
	if out, err := exec.Command("go", "build", "-o", floor, "./testdata/floor").CombinedOutput(); err != nil {
		t.Fatalf("build floor: %v\n%s", err, out)
	}
	var namespaces []string
	for i := range 4 {
		ns := srv.Namespace(t, fmt.Sprintf("load%d", i), map[string]string{
			"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"})
		namespaces = append(namespaces, ns.Name)
	}
	bodies, err := load.Mix(namespaces, 1000)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	servers := []struct {
		name, path string
		args       func(port int) []string
	}{
		{"kubeguard", "/validate", func(port int) []string {
			return []string{kubeguard, "webhook", "serve", "--addr", "127.0.0.1:" + strconv.Itoa(port), "--cert", cert, "--key", key,
				"--kubeconfig", filepath.Join(dir, "kubeconfig"), "--log-level", "warn", "--shutdown-delay", "0s"}
		}},
		{"floor", "/validate", func(port int) []string {
			return []string{floor, "--addr", "127.0.0.1:" + strconv.Itoa(port), "--cert", cert, "--key", key}
		}},
		{"upstream", "/", func(port int) []string {
			return []string{upstream, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port), "--tls-cert-file", cert,
				"--tls-private-key-file", key, "--kubeconfig", filepath.Join(dir, "kubeconfig"), "-v", "0"}
		}},
	}
	var rows []string
	for _, s := range servers {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		args := s.args(port)
		if cpus := os.Getenv("KUBEGUARD_WEBHOOK_BENCH_CPUS"); cpus != "" {
			args = append([]string{"taskset", "-c", cpus}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), strings.Fields(os.Getenv("KUBEGUARD_WEBHOOK_BENCH_ENV"))...)
		logf, err := os.Create(filepath.Join(dir, s.name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		base := fmt.Sprintf("https://127.0.0.1:%d", port)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: 8, MaxConnsPerHost: 8}}
		if err := waitReady(client, base+"/readyz"); err != nil {
			_ = cmd.Process.Kill()
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("%s not ready: %v\n%s", s.name, err, b)
		}
		ctx := context.Background()
		load.Run(ctx, client, base+s.path, bodies, 200, 2*time.Second, 64) // warm up
		for _, r := range rates {
			res := load.Run(ctx, client, base+s.path, bodies, r, duration, 64)
			rows = append(rows, res.Row(s.name))
		}
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		logf.Close()
	}
	t.Logf("server environment %q, CPUs %q", os.Getenv("KUBEGUARD_WEBHOOK_BENCH_ENV"), os.Getenv("KUBEGUARD_WEBHOOK_BENCH_CPUS"))
	t.Logf("same %d reviews (pods 70%%, of which 2 in 7 violate baseline; pod updates 10%%; Deployments 20%%), %s per rate, 64 in flight at most, 8 TLS connections\n%s\n%s",
		len(bodies), duration, load.Header, strings.Join(rows, "\n"))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(c *http.Client, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
