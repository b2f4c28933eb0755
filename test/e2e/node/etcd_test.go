package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

// pkiFiles writes a CA, a server certificate for 127.0.0.1 and a client
// certificate signed by it, each with its key, into dir.
func pkiFiles(t *testing.T, dir string) (ca, cert, key, clientCert, clientKey string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "etcd-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	leaf := func(cn string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage, x509.ExtKeyUsageClientAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(k)
		return write(cn+".crt", "CERTIFICATE", der), write(cn+".key", "PRIVATE KEY", kder)
	}
	ca = write("ca.crt", "CERTIFICATE", caDER)
	cert, key = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	clientCert, clientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return
}

// TestLiveEtcdTLS starts etcd with the TLS flags kubeadm gives it, judges
// its command line, and holds the verdict to etcd's behaviour: no plain
// HTTP, no TLS client without a certificate, a client with one served.
func TestLiveEtcdTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bins, err := apiserver.Build(ctx, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca, cert, key, clientCert, clientKey := pkiFiles(t, dir)
	ports := make([]int, 2)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	client := "https://127.0.0.1:" + strconv.Itoa(ports[0])
	peer := "https://127.0.0.1:" + strconv.Itoa(ports[1])
	cmd := exec.Command(bins.Etcd,
		"--name=tls", "--data-dir="+filepath.Join(dir, "data"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=tls="+peer,
		"--cert-file="+cert, "--key-file="+key, "--trusted-ca-file="+ca, "--client-cert-auth=true",
		"--peer-cert-file="+cert, "--peer-key-file="+key, "--peer-trusted-ca-file="+ca, "--peer-client-cert-auth=true",
		"--unsafe-no-fsync", "--log-level=warn")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, _ := os.Create(filepath.Join(dir, "etcd.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, "etcd.log"))
			t.Logf("etcd log:\n%s", data)
		}
	})

	// kubeguard's verdict on the command line etcd runs with. The kernel
	// may show an empty command line for a moment after the start, so the
	// read is retried for a few seconds.
	var n *node.Node
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n = node.ReadPaths(node.Host{}, []string{"/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline"})
		if len(n.Components) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(n.Components) != 1 || n.Components[0].Component != node.Etcd {
		t.Fatalf("read %d components, errors %v", len(n.Components), n.Errors)
	}
	fs, errs := node.Evaluate(n, node.Checks(), node.Options{})
	if len(errs) > 0 {
		t.Errorf("input errors: %v", errs)
	}
	for _, f := range fs {
		if strings.HasPrefix(f.CheckID, "etcd-") {
			t.Errorf("unexpected %s: %s", f.CheckID, f.Reason)
		}
	}

	// etcd's behaviour.
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(ca)
	pool.AppendCertsFromPEM(caPEM)
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	get := func(url string, cfg *tls.Config) error {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	withCert := &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}
	deadline := time.Now().Add(time.Minute)
	for get(client+"/health", withCert) != nil {
		if time.Now().After(deadline) {
			t.Fatal("etcd not healthy over TLS with a client certificate")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := get(client+"/health", &tls.Config{RootCAs: pool}); err == nil {
		t.Error("etcd served a TLS client without a certificate; kubeguard says it authenticates clients")
	}
	if err := get(strings.Replace(client, "https:", "http:", 1)+"/health", nil); err == nil {
		t.Error("etcd served plain HTTP; kubeguard says it serves TLS")
	}
}
