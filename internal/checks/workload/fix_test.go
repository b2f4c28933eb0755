package workload

import (
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
)

// TestFixesAreTheContainersOwn pins what the fixes of the container checks
// write for one object: its own path and container name, and limits not
// below the requests it already has (the API server refuses a limit below
// a request). TestEveryFixFixes in package checks applies them.
func TestFixesAreTheContainersOwn(t *testing.T) {
	const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: payments}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: server
        image: ghcr.io/acme/api
        imagePullPolicy: IfNotPresent
        resources:
          requests: {memory: 1Gi, ephemeral-storage: 2Gi}
`
	fs, _ := checktest.ScanYAML(t, "api.yaml", manifest, Checks)
	want := map[string][]string{
		"memory-limit":              {"  spec:\n    template:\n      spec:\n        containers:\n        - name: server\n          resources:\n            limits:\n              memory: 1Gi"},
		"ephemeral-storage-limit":   {"- name: server", "ephemeral-storage: 2Gi"},
		"resource-requests":         {"- name: server", "requests:\n              cpu: 100m"},
		"read-only-root-filesystem": {"- name: server", "readOnlyRootFilesystem: true"},
		"image-tag-latest":          {"image: ghcr.io/acme/api:<version>@sha256:<digest>"},
		"image-digest":              {"image: ghcr.io/acme/api@sha256:<digest>"},
		"image-pull-policy":         {"- name: server", "imagePullPolicy: Always"},
	}
	seen := map[string]bool{}
	for _, f := range fs {
		w, ok := want[f.CheckID]
		if !ok {
			continue
		}
		seen[f.CheckID] = true
		for _, s := range w {
			if !strings.Contains(f.Remediation, s) {
				t.Errorf("%s: fix lacks %q:\n%s", f.CheckID, s, f.Remediation)
			}
		}
		if strings.Contains(f.Remediation, "256Mi") || strings.Contains(f.Remediation, "1.4.2") || strings.Contains(f.Remediation, "example.com") {
			t.Errorf("%s: fix names what the object does not:\n%s", f.CheckID, f.Remediation)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s: no finding", id)
		}
	}
}

// TestPrivilegedFixIsTheInputsOwn pins the privileged-unenforced fix: the
// container's own field and the input's own Namespace, not a bare label
// snippet without an object.
func TestPrivilegedFixIsTheInputsOwn(t *testing.T) {
	const input = `apiVersion: v1
kind: Namespace
metadata: {name: agents}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: agents}
spec:
  containers:
  - name: sniffer
    image: registry.internal/sniffer:2
    securityContext: {privileged: true}
`
	fs, _ := checktest.ScanYAML(t, "probe.yaml", input, []check.Check{PrivilegedUnenforced})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	for _, s := range []string{"  spec:\n    containers:\n    - name: sniffer\n      securityContext:\n        privileged: false\n",
		"  kind: Namespace\n  metadata:\n    name: agents\n    labels:\n      pod-security.kubernetes.io/enforce: baseline"} {
		if !strings.Contains(fs[0].Remediation, s) {
			t.Errorf("fix lacks %q:\n%s", s, fs[0].Remediation)
		}
	}
}
