package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestScanTypeErrors: an object the API server would refuse to decode (a
// string where an integer belongs) is an input error located at the field,
// in Kubernetes terms, and the scan exits 2; it is never a silent pass.
func TestScanTypeErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		message   string
	}{
		{"service nodePort", `apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: NodePort
  ports:
  - port: 5432
    nodePort: "30080"
`, 8, `spec.ports[0].nodePort: must be an integer, not a string`},
		{"service port", `apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  ports:
  - port: "5432"
`, 6, `spec.ports[0].port: must be an integer, not a string`},
		{"ingress port number", `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: "80"
`, 9, `spec.defaultBackend.service.port.number: must be an integer, not a string`},
		{"networkpolicy endPort", `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: shop}
spec:
  podSelector: {}
  egress:
  - ports:
    - port: 80
      endPort: "90"
`, 9, `spec.egress[0].ports[0].endPort: must be an integer, not a string`},
		{"pod spec", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: c
        image: nginx:1.27
        ports:
        - containerPort: "80"
`, 11, `spec.template.spec.containers[0].ports[0].containerPort: must be an integer, not a string`},
		{"deployment replicas", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: [2]
  template:
    spec:
      containers: [{name: c, image: nginx:1.27}]
`, 5, `spec.replicas: must be an integer, not a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "in.yaml", tt.doc)
			code, out, stderr := runCLI([]string{"scan", "-o", "json", path}, "")
			if code != ExitError {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitError, stderr)
			}
			r := decodeReport(t, out)
			if len(r.Errors) != 1 {
				t.Fatalf("errors %+v, want one", r.Errors)
			}
			e := r.Errors[0]
			if e.Location.File != path || e.Location.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d", e.Location.File, e.Location.Line, filepath.Base(path), tt.line)
			}
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", e.Message, tt.message)
			}
			for _, goWord := range []string{"Go struct", "int32", "unmarshal"} {
				if strings.Contains(e.Message, goWord) {
					t.Errorf("message %q speaks Go (%q)", e.Message, goWord)
				}
			}
		})
	}
}
