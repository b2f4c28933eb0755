package nodeproxy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/configz"
	kubeletconfig "k8s.io/kubelet/config/v1beta1"
	kubeletscheme "k8s.io/kubernetes/pkg/kubelet/apis/config/scheme"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

// kubeletClientCN is the identity the API server presents to kubelets,
// as kubeadm names it.
const kubeletClientCN = "kube-apiserver-kubelet-client"

// pki is a CA and the certificates it signs, written to a directory.
type pki struct {
	dir  string
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pool *x509.CertPool
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e-kubelet-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), key: key, cert: cert, pool: x509.NewCertPool()}
	p.pool.AddCert(cert)
	p.write(t, "ca.crt", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue signs a leaf certificate: a server's for ip, or a client's for cn.
func (p *pki) issue(t *testing.T, name, cn string, ip net.IP) (certFile, keyFile string, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if ip != nil {
		tmpl.IPAddresses, tmpl.ExtKeyUsage = []net.IP{ip}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = p.write(t, name+".crt", "CERTIFICATE", der), p.write(t, name+".key", "EC PRIVATE KEY", kder)
	pair, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pair
}

// kubeletRequest is a request the fake kubelet received.
type kubeletRequest struct {
	Path, ClientCN string
}

// fakeKubelet serves /configz with the upstream configz handler, over TLS
// with client certificates required, as a kubelet does, and records who
// asked for what.
type fakeKubelet struct {
	port     int
	mu       sync.Mutex
	requests []kubeletRequest
}

func (k *fakeKubelet) all() []kubeletRequest {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.requests)
}

var configzOnce sync.Once
var kubeletConfigz *configz.Config

func startKubelet(t *testing.T, p *pki, ip net.IP) *fakeKubelet {
	t.Helper()
	_, _, serving := p.issue(t, "kubelet", "e2e-node", ip)
	mux := http.NewServeMux()
	configz.InstallHandler(mux)
	k := &fakeKubelet{}
	ln, err := tls.Listen("tcp", net.JoinHostPort(ip.String(), "0"), &tls.Config{
		Certificates: []tls.Certificate{serving}, ClientCAs: p.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", ip, err)
	}
	k.port = ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		k.mu.Lock()
		k.requests = append(k.requests, kubeletRequest{Path: r.URL.Path, ClientCN: cn})
		k.mu.Unlock()
		mux.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return k
}

// setKubeletConfig loads a KubeletConfiguration file with the kubelet's
// own codec (decoding and defaulting, as the kubelet loads --config) and
// registers it with configz the way the kubelet does (setConfigz in
// k8s.io/kubernetes cmd/kubelet/app/server.go: converted to v1beta1, its
// kind set).
func setKubeletConfig(t *testing.T, file string) {
	t.Helper()
	scheme, codecs, err := kubeletscheme.NewSchemeAndCodecs()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	internal, _, err := codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	versioned := &kubeletconfig.KubeletConfiguration{}
	if err := scheme.Convert(internal, versioned, nil); err != nil {
		t.Fatal(err)
	}
	versioned.GetObjectKind().SetGroupVersionKind(kubeletconfig.SchemeGroupVersion.WithKind("KubeletConfiguration"))
	configzOnce.Do(func() {
		if kubeletConfigz, err = configz.New("kubeletconfig"); err != nil {
			t.Fatal(err)
		}
	})
	if err := kubeletConfigz.Set(versioned); err != nil {
		t.Fatal(err)
	}
}

// insecureKubeletConfig is a KubeletConfiguration with insecure overrides;
// the rest is the kubelet's defaults.
const insecureKubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
tlsMinVersion: VersionTLS11
makeIPTablesUtilChains: false
`

// registerNode creates a Node whose kubelet is at ip:port.
func registerNode(t *testing.T, s *apiserver.Server, name string, ip net.IP, port int) {
	t.Helper()
	n, err := s.Client.CoreV1().Nodes().Create(t.Context(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip.String()}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	if _, err := s.Client.CoreV1().Nodes().UpdateStatus(t.Context(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createMirrorPod creates in kube-system the mirror pod a kubelet on
// nodeName would create for a static pod manifest.
func createMirrorPod(t *testing.T, s *apiserver.Server, manifest, nodeName string) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(data, &pod); err != nil {
		t.Fatal(err)
	}
	pod.Name += "-" + nodeName
	pod.Namespace = "kube-system"
	pod.Annotations = map[string]string{"kubernetes.io/config.mirror": "e2e-" + pod.Name, "kubernetes.io/config.source": "file"}
	pod.Spec.NodeName = nodeName
	// The fixtures' host paths are the node's; the mirror pod keeps them.
	out, err := s.Client.CoreV1().Pods("kube-system").Create(t.Context(), &pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create mirror pod of %s: %v", manifest, err)
	}
	return out
}

// kubeconfigFor writes a kubeconfig for the server as the admin, or as the
// user it impersonates.
func kubeconfigFor(t *testing.T, s *apiserver.Server, as string) string {
	t.Helper()
	user := "    token: " + s.AdminToken + "\n"
	if as != "" {
		user += "    as: " + as + "\n"
	}
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: " + s.URL + "\n" +
		"    certificate-authority-data: " + base64.StdEncoding.EncodeToString(s.CAData) + "\n" +
		"users:\n- name: e2e\n  user:\n" + user +
		"contexts:\n- name: e2e\n  context: {cluster: e2e, user: e2e}\ncurrent-context: e2e\n"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func kubeguard(t *testing.T, args ...string) (int, []finding.Finding, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("kubeguard %s: exit %d, %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, err, stdout.String(), stderr.String())
	}
	return code, r.Findings, stderr.String()
}

// fileCheckIDs are the checks of a node's files (permissions, PKI): the
// API serves no file.
var fileCheckIDs = []string{"node-file-permissions", "node-file-ownership", "pki-certificate-expiry", "pki-certificate-lifetime", "pki-system-masters"}

// judgedLocally is what kubeguard node says of files: check, severity and
// reason of each finding.
func judgedLocally(t *testing.T, paths ...string) []string {
	t.Helper()
	n := node.ReadPaths(node.Host{}, paths)
	fs, _ := node.Evaluate(n, node.Checks(), node.Options{})
	return verdictsOf(fs, func(finding.Finding) bool { return true })
}

// verdictsOf renders the findings of the node checks that keep keeps; a
// live scan also judges the mirror pods as pods.
func verdictsOf(fs []finding.Finding, keep func(finding.Finding) bool) []string {
	var out []string
	for _, f := range fs {
		isNodeCheck := slices.ContainsFunc(node.Checks(), func(c node.Check) bool { return c.ID == f.CheckID })
		if keep(f) && isNodeCheck && !slices.Contains(fileCheckIDs, f.CheckID) {
			out = append(out, fmt.Sprintf("%s %s: %s", f.CheckID, f.Severity, f.Reason))
		}
	}
	slices.Sort(out)
	return out
}

// TestClusterNodes runs kubeguard cluster --nodes against the real API
// server: kube-system mirror pods made from an insecure and a secure
// kube-apiserver manifest, a Node whose kubelet (a TLS server serving the
// upstream configz handler with a configuration the upstream kubelet codec
// defaulted) is reached only through the API server's node proxy, and a
// Node whose kubelet does not answer. The verdicts are kubeguard node's on
// the same manifests and configuration file; the request reaches the
// kubelet through the API server, with the API server's kubelet client
// certificate; the dead node is an error naming it, the others are judged;
// an identity without nodes/proxy is told which permission it lacks.
func TestClusterNodes(t *testing.T) {
	needNamespace(t)
	ip := kubeletIP
	p := newPKI(t)
	clientCert, clientKey, _ := p.issue(t, "apiserver-kubelet-client", kubeletClientCN, nil)
	kubelet := startKubelet(t, p, ip)
	dir := t.TempDir()
	configFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configFile, []byte(insecureKubeletConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	setKubeletConfig(t, configFile)

	s := apiserver.StartForTest(t, apiserver.Options{ExtraArgs: []string{
		"--kubelet-client-certificate=" + clientCert,
		"--kubelet-client-key=" + clientKey,
		"--kubelet-certificate-authority=" + filepath.Join(p.dir, "ca.crt"),
		"--kubelet-preferred-address-types=InternalIP",
	}})
	registerNode(t, s, "e2e-node", ip, kubelet.port)
	dead, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.Addr().(*net.TCPAddr).Port
	dead.Close() // nothing listens there any more
	registerNode(t, s, "e2e-down", ip, deadPort)

	manifests := "../../../internal/node/testdata/cases/"
	insecure := manifests + "insecure/root/etc/kubernetes/manifests/kube-apiserver.yaml"
	secure := manifests + "kubeadm/root/etc/kubernetes/manifests/kube-apiserver.yaml"
	insecurePod := createMirrorPod(t, s, insecure, "e2e-node")
	securePod := createMirrorPod(t, s, secure, "e2e-down")

	code, fs, stderr := kubeguard(t, "cluster", "--kubeconfig", kubeconfigFor(t, s, ""), "--nodes", "--node-timeout", "20s", "-o", "json")
	if code != cli.ExitError {
		t.Errorf("exit %d, want %d: the dead node's kubelet could not be read", code, cli.ExitError)
	}
	t.Logf("kubeguard cluster --nodes: %d findings; standard error:\n%s", len(fs), stderr)

	// The request came through the API server, with its client identity.
	reqs := kubelet.all()
	if len(reqs) != 1 || reqs[0] != (kubeletRequest{Path: "/configz", ClientCN: kubeletClientCN}) {
		t.Errorf("the kubelet received %v, want one GET /configz from %s", reqs, kubeletClientCN)
	}

	// The kubelet: kubeguard node's verdicts on the same file.
	onNode := func(name string) func(finding.Finding) bool {
		return func(f finding.Finding) bool { return f.Object.Kind == "Node" && f.Object.Name == name }
	}
	// Except seccompDefault: the file leaves it false, and /configz does
	// not show the --seccomp-default the kubelet ORs with it, so through
	// the API it is not judged, and standard error says so.
	want := slices.DeleteFunc(judgedLocally(t, configFile), func(v string) bool { return strings.HasPrefix(v, "kubelet-seccomp-default ") })
	if !strings.Contains(stderr, "Node/e2e-node: kubeletconfig.seccompDefault is false, but the kubelet ORs it with --seccomp-default") {
		t.Errorf("the unjudged seccompDefault is not reported:\n%s", stderr)
	}
	got := verdictsOf(fs, onNode("e2e-node"))
	t.Logf("kubelet verdicts through the API, as kubeguard node's on the file:\n  %s", strings.Join(got, "\n  "))
	if len(want) < 4 || !slices.Equal(want, got) {
		t.Errorf("kubelet verdicts through the API:\n  %s\nkubeguard node on the file:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, id := range []string{"kubelet-anonymous-auth", "kubelet-authorization-mode", "kubelet-read-only-port", "kubelet-tls-ciphers", "kubelet-iptables-util-chains"} {
		if !slices.ContainsFunc(fs, func(f finding.Finding) bool {
			return f.CheckID == id && onNode("e2e-node")(f) && strings.HasPrefix(f.Path, "kubeletconfig.") && f.Location.File == ""
		}) {
			t.Errorf("no %s finding on Node/e2e-node at a kubeletconfig field", id)
		}
	}

	// The mirror pods: kubeguard node's verdicts on the manifests.
	for _, tc := range []struct {
		pod      *corev1.Pod
		manifest string
	}{{insecurePod, insecure}, {securePod, secure}} {
		onPod := func(f finding.Finding) bool { return f.Object.Kind == "Pod" && f.Object.Name == tc.pod.Name }
		want, got := judgedLocally(t, tc.manifest), verdictsOf(fs, onPod)
		if len(want) == 0 || !slices.Equal(want, got) {
			t.Errorf("%s through the API:\n  %s\nkubeguard node on %s:\n  %s", tc.pod.Name, strings.Join(got, "\n  "), tc.manifest, strings.Join(want, "\n  "))
		}
		args := slices.Concat(tc.pod.Spec.Containers[0].Command, tc.pod.Spec.Containers[0].Args)
		for _, f := range fs {
			if !onPod(f) || !strings.Contains(f.Path, "].command[") {
				continue
			}
			i, _ := strconv.Atoi(f.Path[strings.LastIndex(f.Path, "[")+1 : len(f.Path)-1])
			if i >= len(args) || !strings.HasPrefix(args[i], "--") || len(f.Containers) != 1 || f.Containers[0] != "kube-apiserver" {
				t.Errorf("%s on %s at %s %v: not a flag of the container", f.CheckID, tc.pod.Name, f.Path, f.Containers)
			}
		}
	}
	if !strings.Contains(stderr, "node/e2e-down: kubelet not judged: the API server could not reach the kubelet") {
		t.Errorf("the dead node is not reported:\n%s", stderr)
	}
	if strings.Contains(stderr, "node/e2e-node:") {
		t.Errorf("the live node is reported as failing:\n%s", stderr)
	}

	// An identity without nodes/proxy: told which permission is missing.
	ctx := t.Context()
	if _, err := s.Client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "e2e-no-proxy"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "nodes", "namespaces"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "e2e-no-proxy"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "e2e-no-proxy"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "e2e-no-proxy"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, fs, stderr = kubeguard(t, "cluster", "--kubeconfig", kubeconfigFor(t, s, "e2e-no-proxy"), "--nodes", "-o", "json")
	t.Logf("without nodes/proxy, standard error:\n%s", stderr)
	if !strings.Contains(stderr, "node/e2e-node: kubelet not judged: forbidden by the API server") || !strings.Contains(stderr, "get on nodes/proxy") || !strings.Contains(stderr, `"nodes/proxy"`) {
		t.Errorf("the refusal does not say nodes/proxy is missing:\n%s", stderr)
	}
	if len(kubelet.all()) != 1 {
		t.Errorf("the kubelet was asked again: %v", kubelet.all())
	}
	if verdictsOf(fs, func(f finding.Finding) bool { return f.Object.Name == insecurePod.Name }) == nil {
		t.Error("without nodes/proxy the mirror pods are not judged")
	}
}
