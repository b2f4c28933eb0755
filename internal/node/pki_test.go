package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// certPEM makes a self-signed certificate valid from notBefore for life.
func certPEM(t *testing.T, cn string, orgs []string, isCA, client bool, notBefore time.Time, life time.Duration) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore: notBefore, NotAfter: notBefore.Add(life), IsCA: isCA, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestPKI judges a PKI directory and kubeconfigs: lifetimes, expiry,
// system:masters client certificates, and the modes of keys and
// certificates. A key's content is never read: the key file here holds
// none, and nothing complains.
func TestPKI(t *testing.T) {
	root := t.TempDir()
	pki := filepath.Join(root, "etc/kubernetes/pki")
	if err := os.MkdirAll(filepath.Join(pki, "etcd"), 0o755); err != nil {
		t.Fatal(err)
	}
	year := 365 * 24 * time.Hour
	write := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/kubernetes/pki/ca.crt", certPEM(t, "kubernetes", nil, true, false, now.Add(-year), 10*year), 0o644)
	write("etc/kubernetes/pki/ca.key", []byte("not read"), 0o644)
	write("etc/kubernetes/pki/apiserver.crt", certPEM(t, "kube-apiserver", nil, false, false, now.Add(-2*year), year), 0o644)
	write("etc/kubernetes/pki/front-proxy-client.crt", certPEM(t, "front-proxy-client", nil, false, true, now.Add(-year+10*24*time.Hour), year), 0o644)
	write("etc/kubernetes/pki/etcd/server.crt", certPEM(t, "etcd", nil, false, false, now.Add(-time.Hour), 3*year), 0o666)
	masters := certPEM(t, "kubernetes-super-admin", []string{"system:masters"}, false, true, now.Add(-time.Hour), year)
	admins := certPEM(t, "kubernetes-admin", []string{"kubeadm:cluster-admins"}, false, true, now.Add(-time.Hour), year)
	kubeconfig := func(user string, cert []byte) []byte {
		return []byte("apiVersion: v1\nkind: Config\nusers:\n- name: " + user + "\n  user:\n    client-certificate-data: " +
			base64.StdEncoding.EncodeToString(cert) + "\n    client-key-data: bm90IGEga2V5\n")
	}
	write("etc/kubernetes/super-admin.conf", kubeconfig("kubernetes-super-admin", masters), 0o600)
	write("etc/kubernetes/admin.conf", kubeconfig("kubernetes-admin", admins), 0o644)

	n := Read(Host{Root: root}, DefaultLayout)
	if len(n.Errors) > 0 {
		t.Fatal(n.Errors)
	}
	cs := slices.DeleteFunc(Checks(), func(c Check) bool { return c.ID == "node-file-ownership" })
	fs, errs := Evaluate(n, cs, Options{Now: now})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.CheckID+" "+f.Severity.String()+" "+strings.TrimPrefix(f.Location.String(), root)+": "+f.Reason)
	}
	slices.Sort(got)
	want := []string{
		`node-file-permissions high /etc/kubernetes/admin.conf: kubeconfig has mode 0644; want 0600 or stricter`,
		`node-file-permissions high /etc/kubernetes/pki/ca.key: private key has mode 0644; want 0600 or stricter`,
		`node-file-permissions high /etc/kubernetes/pki/etcd/server.crt: certificate has mode 0666; want 0644 or stricter`,
		`pki-certificate-expiry high /etc/kubernetes/pki/apiserver.crt: certificate "kube-apiserver" expired on 2025-12-01`,
		`pki-certificate-expiry medium /etc/kubernetes/pki/front-proxy-client.crt: certificate "front-proxy-client" expires on 2026-12-11`,
		`pki-certificate-lifetime low /etc/kubernetes/pki/etcd/server.crt: certificate "etcd" is valid for 1095 days`,
		`pki-system-masters medium /etc/kubernetes/super-admin.conf:6:5: client certificate kubernetes-super-admin (kubeconfig user kubernetes-super-admin) is in system:masters`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
