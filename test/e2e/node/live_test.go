package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

// judge runs kubeguard node on the command lines the server's processes
// run with, as /proc gives them, and returns the IDs of the findings with
// their reasons, and the input errors.
func judge(t *testing.T, s *apiserver.Server) (map[string][]finding.Finding, []finding.InputError) {
	t.Helper()
	api, etcd := s.PIDs()
	n := node.ReadPaths(node.Host{}, []string{
		"/proc/" + strconv.Itoa(api) + "/cmdline",
		"/proc/" + strconv.Itoa(etcd) + "/cmdline",
	})
	if len(n.Components) != 2 {
		t.Fatalf("read %d components, errors %v", len(n.Components), n.Errors)
	}
	fs, errs := node.Evaluate(n, node.Checks(), node.Options{})
	out := map[string][]finding.Finding{}
	for _, f := range fs {
		out[f.CheckID] = append(out[f.CheckID], f)
	}
	return out, errs
}

// anonymousStatus is the status of an anonymous GET /api: 403 when
// anonymous requests are authenticated (and then refused by RBAC), 401
// when they are not.
func anonymousStatus(t *testing.T, s *apiserver.Server) int {
	t.Helper()
	cfg := rest.AnonymousClientConfig(s.Config)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	var st apierrors.APIStatus
	if err == nil {
		return http.StatusOK
	}
	if s, ok := err.(apierrors.APIStatus); ok {
		st = s
		return int(st.Status().Code)
	}
	t.Fatalf("anonymous request: %v", err)
	return 0
}

// stored reads a key from etcd directly, through its JSON gateway.
func stored(t *testing.T, s *apiserver.Server, key string) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
	resp, err := http.Post(s.EtcdURL+"/v3/kv/range", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var r struct {
		KVs []struct {
			Value []byte `json:"value"`
		} `json:"kvs"`
	}
	if err := json.Unmarshal(data, &r); err != nil || len(r.KVs) != 1 {
		t.Fatalf("etcd range %s: %v %s", key, err, data)
	}
	return r.KVs[0].Value
}

// marker is the Secret value the tests look for in etcd.
const marker = "kubeguard-e2e-marker-value"

// writeSecret creates a Secret holding the marker and returns its etcd
// record.
func writeSecret(t *testing.T, s *apiserver.Server, name string) []byte {
	t.Helper()
	_, err := s.Client.CoreV1().Secrets("default").Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		StringData: map[string]string{"v": marker},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return stored(t, s, "/registry/secrets/default/"+name)
}

// TestLiveInsecure judges the test server as it runs by default — etcd on
// plain HTTP without client certificates, anonymous requests on, RBAC
// alone, no encryption at rest — and holds each verdict to what the
// server does.
func TestLiveInsecure(t *testing.T) {
	s := apiserver.StartForTest(t, apiserver.Options{})
	got, errs := judge(t, s)
	if len(errs) > 0 {
		t.Errorf("input errors: %v", errs)
	}
	for _, id := range []string{
		"apiserver-anonymous-auth", "apiserver-token-auth-file", "apiserver-authorization-node",
		"apiserver-etcd-tls", "encryption-secrets-plaintext", "etcd-client-tls", "etcd-client-cert-auth",
	} {
		if len(got[id]) == 0 {
			t.Errorf("no %s finding", id)
		}
	}
	// The harness runs with --profiling=false and RBAC.
	for _, id := range []string{"apiserver-profiling", "apiserver-authorization-rbac", "apiserver-authorization-always-allow"} {
		if len(got[id]) > 0 {
			t.Errorf("unexpected %s: %s", id, got[id][0].Reason)
		}
	}
	// What the server does agrees.
	if code := anonymousStatus(t, s); code != http.StatusForbidden {
		t.Errorf("anonymous request answered %d; with anonymous auth on it is authenticated and refused (403)", code)
	}
	if rec := writeSecret(t, s, "plain"); !bytes.Contains(rec, []byte(marker)) {
		t.Errorf("kubeguard says Secrets are stored in plain text; etcd holds %q", prefix(rec))
	}
	// etcd answered this test over plain HTTP without a client
	// certificate: etcd-client-tls and etcd-client-cert-auth hold.
}

// TestLiveSecure judges the server started with the flags the documents
// ask for, and holds the verdicts to the server's behaviour.
func TestLiveSecure(t *testing.T) {
	dir := t.TempDir()
	enc := writeEncryption(t, dir, `
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - {name: key1, secret: `+key32+`}
  - identity: {}`)
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := apiserver.StartForTest(t, apiserver.Options{
		AuthorizationModes:     []string{"Node", "RBAC"},
		EnableAdmissionPlugins: []string{"NodeRestriction"},
		ExtraArgs: []string{
			"--anonymous-auth=false",
			"--encryption-provider-config=" + enc,
			"--audit-policy-file=" + policy,
			"--audit-log-path=" + filepath.Join(dir, "audit.log"),
			"--tls-min-version=VersionTLS12",
			"--service-account-extend-token-expiration=false",
		},
	})
	got, errs := judge(t, s)
	if len(errs) > 0 {
		t.Errorf("input errors: %v", errs)
	}
	for _, id := range []string{
		"apiserver-anonymous-auth", "apiserver-authorization-node", "apiserver-authorization-rbac",
		"apiserver-admission-node-restriction", "encryption-secrets-plaintext", "apiserver-audit-log",
		"apiserver-audit-log-retention", "apiserver-extend-token-expiration", "apiserver-tls-ciphers",
	} {
		if len(got[id]) > 0 {
			t.Errorf("unexpected %s: %s (%s)", id, got[id][0].Reason, got[id][0].Detail)
		}
	}
	if len(got["encryption-local-key"]) == 0 {
		t.Error("no rotation advice for aesgcm")
	}
	if code := anonymousStatus(t, s); code != http.StatusUnauthorized {
		t.Errorf("anonymous request answered %d; with anonymous auth off it is not authenticated (401)", code)
	}
	rec := writeSecret(t, s, "sealed")
	if bytes.Contains(rec, []byte(marker)) || !bytes.HasPrefix(rec, []byte("k8s:enc:aesgcm:v1:key1:")) {
		t.Errorf("kubeguard says Secrets are written with aesgcm; etcd holds %q", prefix(rec))
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.log")); err != nil {
		t.Errorf("kubeguard says the server keeps an audit log: %v", err)
	}
}

const (
	key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes
	key16 = "MDEyMzQ1Njc4OWFiY2RlZg=="                     // 16 bytes
)

func writeEncryption(t *testing.T, dir, resources string) string {
	t.Helper()
	p := filepath.Join(dir, "encryption.yaml")
	text := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:" + resources + "\n"
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLiveEncryption starts the API server with each EncryptionConfiguration
// and compares kubeguard's verdict for Secrets — plain text or which
// provider writes — with what lands in etcd.
func TestLiveEncryption(t *testing.T) {
	cases := []struct {
		name, resources string
	}{
		{"identity first, aescbc after (kube-bench passes it)", `
- resources: [secrets]
  providers:
  - identity: {}
  - aescbc:
      keys:
      - {name: k1, secret: ` + key32 + `}`},
		{"aescbc", `
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - {name: k1, secret: ` + key32 + `}`},
		{"secretbox through *.*", `
- resources: [configmaps]
  providers:
  - identity: {}
- resources: ["*.*"]
  providers:
  - secretbox:
      keys:
      - {name: k1, secret: ` + key32 + `}`},
		{"core wildcard identity first", `
- resources: ["*."]
  providers:
  - identity: {}
  - aesgcm:
      keys:
      - {name: k1, secret: ` + key16 + `}`},
		{"only configmaps listed", `
- resources: [configmaps]
  providers:
  - aesgcm:
      keys:
      - {name: k1, secret: ` + key16 + `}`},
		{"secrets named before *.*", `
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - {name: k1, secret: ` + key16 + `}
- resources: ["*.*"]
  providers:
  - identity: {}`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := writeEncryption(t, t.TempDir(), tc.resources)
			n := node.ReadPaths(node.Host{}, []string{enc})
			cfg := n.Encryption[enc]
			if cfg == nil {
				t.Fatalf("kubeguard refuses the configuration: %v", n.Errors)
			}
			v := node.Encryption(cfg, "secrets")
			s := apiserver.StartForTest(t, apiserver.Options{ExtraArgs: []string{"--encryption-provider-config=" + enc}})
			rec := writeSecret(t, s, fmt.Sprintf("s%d", i))
			plain := bytes.Contains(rec, []byte(marker))
			if plain != v.Plaintext() {
				t.Errorf("kubeguard: plain text %v (writer %q); etcd holds %q", v.Plaintext(), v.Writer, prefix(rec))
			}
			if !plain {
				want := "k8s:enc:" + v.Writer + ":v1:"
				if !bytes.HasPrefix(rec, []byte(want)) {
					t.Errorf("kubeguard: written by %s; etcd holds %q", v.Writer, prefix(rec))
				}
			}
		})
	}
}

// TestLiveRefusedEncryption starts the API server with configurations
// kubeguard calls errors and checks the server refuses them too.
func TestLiveRefusedEncryption(t *testing.T) {
	for _, tc := range []struct{ resources, why string }{
		{"\n- resources: [\"*.*\"]\n  providers:\n  - identity: {}\n- resources: [secrets]\n  providers:\n  - identity: {}", "masked by earlier rule"},
		{"\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - {name: k1, secret: " + key16 + "}", "secret is not of the expected length"},
	} {
		resources := tc.resources
		enc := writeEncryption(t, t.TempDir(), resources)
		n := node.ReadPaths(node.Host{}, []string{enc})
		if len(n.Errors) == 0 {
			t.Errorf("kubeguard accepts %s", resources)
		}
		if testing.Short() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s, err := apiserver.Start(ctx, apiserver.Options{ExtraArgs: []string{"--encryption-provider-config=" + enc}, StartTimeout: time.Minute})
		cancel()
		if err == nil {
			s.Stop()
			t.Errorf("the API server started with %s, which kubeguard calls an error", resources)
			continue
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("the API server failed for another reason than %q:\n%v", tc.why, err)
		}
		if !strings.Contains(n.Errors[0].Message, tc.why) {
			t.Errorf("kubeguard's error %q does not say %q", n.Errors[0].Message, tc.why)
		}
	}
}

// prefix shows the start of an etcd record, which is all a failure needs.
func prefix(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return strings.ToValidUTF8(string(b), "?")
}
