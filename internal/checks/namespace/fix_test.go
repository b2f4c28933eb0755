package namespace_test

import (
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/namespace"
)

// TestPolicyFixIsThePodsOwn pins the NetworkPolicy pod-no-network-policy
// writes: named after the object, in its namespace, selecting its pods by
// their labels, on the ports its containers declare; no invented client
// (app: frontend) or port (8080).
func TestPolicyFixIsThePodsOwn(t *testing.T) {
	const input = `apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: billing}
spec:
  selector: {matchLabels: {tier: ledger}}
  template:
    metadata: {labels: {tier: ledger}}
    spec:
      containers:
      - name: server
        image: registry.internal/ledger:3
        ports:
        - {containerPort: 9443}
        - {containerPort: 5353, protocol: UDP}
`
	fs, _ := checktest.ScanYAML(t, "ledger.yaml", input, []check.Check{namespace.PodNoNetworkPolicy})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	fix := fs[0].Remediation
	for _, s := range []string{"    name: ledger\n    namespace: billing\n", `"tier": "ledger"`, "{protocol: TCP, port: 9443}", "{protocol: UDP, port: 5353}"} {
		if !strings.Contains(fix, s) {
			t.Errorf("fix lacks %q:\n%s", s, fix)
		}
	}
	for _, s := range []string{"frontend", "8080", "my-namespace"} {
		if strings.Contains(fix, s) {
			t.Errorf("fix names %q:\n%s", s, fix)
		}
	}
}

// TestLabelFixIsTheLabelsOwn pins the fix of each invalid Pod Security
// label: that label, set to what it evidently meant.
func TestLabelFixIsTheLabelsOwn(t *testing.T) {
	const input = `apiVersion: v1
kind: Namespace
metadata:
  name: billing
  labels:
    pod-security.kubernetes.io/enforce: Baseline
    pod-security.kubernetes.io/enforce-version: "1.30"
`
	fs, _ := checktest.ScanYAML(t, "ns.yaml", input, []check.Check{namespace.PSSLabelInvalid})
	want := []string{`"pod-security.kubernetes.io/enforce": baseline`, `"pod-security.kubernetes.io/enforce-version": v1.30`}
	if len(fs) != len(want) {
		t.Fatalf("got %d findings, want %d", len(fs), len(want))
	}
	for i, f := range fs {
		if !strings.Contains(f.Remediation, want[i]) || strings.Contains(f.Remediation, "restricted") {
			t.Errorf("fix %d lacks %q or names another label:\n%s", i, want[i], f.Remediation)
		}
	}
}
