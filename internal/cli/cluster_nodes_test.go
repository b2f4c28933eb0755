package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/cluster/clustertest"
	"github.com/kubeguard/kubeguard/internal/finding"
)

const mirrorFixture = `
apiVersion: v1
kind: Node
metadata:
  name: cp-1
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver-cp-1
  namespace: kube-system
  annotations:
    kubernetes.io/config.mirror: 0f1e2d
spec:
  nodeName: cp-1
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.36.3
    command:
    - kube-apiserver
    - --anonymous-auth=true
    - --authorization-mode=Node,RBAC
    - --service-account-issuer=https://kubernetes.default.svc
`

// TestClusterNodesOptIn: without --nodes, kubeguard cluster never lists
// Nodes nor asks the node proxy; with it, the mirror pods are judged by the
// node checks at their container's argument, and a kubelet whose /configz
// does not come through is an error naming its node (exit 2).
func TestClusterNodesOptIn(t *testing.T) {
	s := clustertest.New(t, clustertest.Objects(t, mirrorFixture)...)
	code, out, _ := runFake(t, s, "-o", "json")
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, "/nodes") {
			t.Errorf("without --nodes: %s %s", r.Method, r.Path)
		}
	}
	if strings.Contains(out, "apiserver-anonymous-auth") {
		t.Errorf("node checks ran without --nodes (exit %d)", code)
	}

	code, out, stderr := runFake(t, s, "--nodes", "-o", "json")
	if code != ExitError {
		t.Errorf("exit %d, want %d (the kubelet could not be read)", code, ExitError)
	}
	if !strings.Contains(stderr, "node/cp-1") || !strings.Contains(stderr, "kubelet not judged: not found (404)") {
		t.Errorf("stderr does not name the node:\n%s", stderr)
	}
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var found bool
	for _, f := range r.Findings {
		if f.CheckID == "apiserver-anonymous-auth" {
			found = true
			if f.Object.String() != "Pod/kube-system/kube-apiserver-cp-1" || f.Path != "spec.containers[0].command[1]" || len(f.Containers) != 1 || f.Containers[0] != "kube-apiserver" {
				t.Errorf("finding at %v %s %v", f.Object, f.Path, f.Containers)
			}
		}
		if f.CheckID == "apiserver-authorization-node" {
			t.Errorf("Node is an authorization mode: %s", f.Reason)
		}
	}
	if !found {
		t.Errorf("no apiserver-anonymous-auth finding:\n%s", out)
	}
	var proxied bool
	for _, q := range s.Requests() {
		proxied = proxied || q.Path == "/api/v1/nodes/cp-1/proxy/configz"
	}
	if !proxied {
		t.Error("the kubelet's configuration was not asked through the node proxy")
	}
}

// TestClusterNodesConfig: a configuration disables node checks and
// overrides their severity under --nodes as under kubeguard node.
func TestClusterNodesConfig(t *testing.T) {
	s := clustertest.New(t, clustertest.Objects(t, mirrorFixture)...)
	cfg := filepath.Join(t.TempDir(), ".kubeguard.yaml")
	if err := os.WriteFile(cfg, []byte("checks:\n  disable: [apiserver-anonymous-auth]\n  severity:\n    apiserver-profiling: critical\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, stderr := runFake(t, s, "--nodes", "--config", cfg, "-o", "json")
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var profiling bool
	for _, f := range r.Findings {
		if f.CheckID == "apiserver-anonymous-auth" {
			t.Errorf("a disabled check reported: %s", f.Reason)
		}
		if f.CheckID == "apiserver-profiling" {
			profiling = true
			if f.Severity != finding.Critical {
				t.Errorf("apiserver-profiling is %s, configured critical", f.Severity)
			}
		}
	}
	if !profiling {
		t.Errorf("no apiserver-profiling finding:\n%s", out)
	}
}
