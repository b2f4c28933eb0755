package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/cluster/clustertest"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// clusterNetpol is a cluster whose NetworkPolicies are judged by the pods
// it runs: 3,000 replicas of one web pod (served page by page, not held),
// a Deployment scaled to zero, and policies that select nothing, name a
// port no pod declares, or are right.
const clusterNetpol = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: batch, namespace: shop, uid: d1}
spec:
  replicas: 0
  selector: {matchLabels: {app: batch}}
  template:
    metadata: {labels: {app: batch}}
    spec:
      containers:
      - {name: batch, image: batch, ports: [{name: jobs, containerPort: 7000}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: shop}
spec:
  podSelector: {matchLabels: {app: wbe}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: http}, {port: https}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: batch, namespace: shop}
spec:
  podSelector: {matchLabels: {app: batch}}
  ingress:
  - from: [{podSelector: {}}]
    ports: [{port: jobs}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: elsewhere, namespace: empty}
spec:
  podSelector: {matchLabels: {app: api}}
`

func TestClusterNetpolFindings(t *testing.T) {
	s := clustertest.New(t, clustertest.Objects(t, clusterNetpol)...)
	s.Generate("pods", clustertest.Generated{N: 3000, Make: func(i int) map[string]any {
		return map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": fmt.Sprintf("web-%d", i), "namespace": "shop", "labels": map[string]any{"app": "web"}},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx",
				"ports": []any{map[string]any{"name": "http", "containerPort": 8080}}}}},
		}
	}})
	code, out, stderr := runFake(t, s, "-o", "json")
	if code == ExitError {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var r struct {
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("json: %v", err)
	}
	var got []string
	for _, f := range r.Findings {
		if strings.HasPrefix(f.CheckID, "netpol-") && f.CheckID != "netpol-from-every-namespace" {
			got = append(got, f.CheckID+" "+f.Object.Namespace+"/"+f.Object.Name+" "+f.Path)
		}
	}
	slices.Sort(got)
	want := []string{
		"netpol-named-port-undeclared shop/web spec.ingress[0].ports[1].port",
		"netpol-selects-no-pod shop/typo spec.podSelector",
	}
	if !slices.Equal(got, want) {
		t.Errorf("netpol findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
