package network_test

import (
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/network"
)

// TestFixesAreTheObjectsOwn pins what the network fixes write for one
// input: a ClusterIP Service without what only node ports allow (the API
// server refuses a ClusterIP Service with a nodePort or an
// externalTrafficPolicy), externalIPs removed rather than the type
// changed, the uncovered host added to the Ingress's own spec.tls, and a
// Certificate for the Secret the Ingress names.
func TestFixesAreTheObjectsOwn(t *testing.T) {
	const input = `apiVersion: v1
kind: Service
metadata: {name: gateway, namespace: edge}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  externalIPs: [198.51.100.7]
  selector: {app: gateway}
  ports:
  - {port: 443, targetPort: 8443, nodePort: 30443}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: portal, namespace: edge}
spec:
  tls:
  - hosts: [portal.acme.test]
    secretName: portal-cert
  rules:
  - host: portal.acme.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: gateway, port: {number: 443}}}}]}
  - host: admin.acme.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: gateway, port: {number: 443}}}}]}
`
	fs, _ := checktest.ScanYAML(t, "edge.yaml", input, network.Checks)
	want := map[string][]string{
		"service-exposed":            {"    type: ClusterIP\n", "    externalTrafficPolicy: null\n", "    ports:\n    - port: 443\n      nodePort: null"},
		"service-external-ips":       {"  spec:\n    externalIPs: null"},
		"ingress-tls":                {"    tls:\n", "portal.acme.test", "secretName: portal-cert", "admin.acme.test", "secretName: admin-acme-test-tls"},
		"ingress-tls-secret-missing": {"kind: Certificate", "    name: portal-cert\n    namespace: edge\n", "secretName: portal-cert", `- "portal.acme.test"`},
	}
	for _, f := range fs {
		for _, s := range want[f.CheckID] {
			if !strings.Contains(f.Remediation, s) {
				t.Errorf("%s: fix lacks %q:\n%s", f.CheckID, s, f.Remediation)
			}
		}
		if _, ok := want[f.CheckID]; ok && (strings.Contains(f.Remediation, "shop") || strings.Contains(f.Remediation, "203.0.113")) {
			t.Errorf("%s: fix names what the input does not:\n%s", f.CheckID, f.Remediation)
		}
		delete(want, f.CheckID)
	}
	for id := range want {
		t.Errorf("%s: no finding", id)
	}
}

// TestMigratedIngressIsTheIngressOwn pins the ingress-api-removed fix: the
// same Ingress in networking.k8s.io/v1, a named service port kept as a
// name, spec.backend as spec.defaultBackend, a path's own pathType kept.
func TestMigratedIngressIsTheIngressOwn(t *testing.T) {
	const input = `apiVersion: extensions/v1beta1
kind: Ingress
metadata:
  name: storefront
  namespace: retail
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "true"}
spec:
  backend: {serviceName: fallback, servicePort: 8081}
  rules:
  - host: store.acme.test
    http:
      paths:
      - {path: /cart, pathType: Exact, backend: {serviceName: cart, servicePort: http}}
`
	fs, _ := checktest.ScanYAML(t, "ingress.yaml", input, []check.Check{network.IngressAPIRemoved})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	for _, s := range []string{"  apiVersion: networking.k8s.io/v1\n  kind: Ingress\n  metadata:\n", "name: storefront", "namespace: retail",
		"nginx.ingress.kubernetes.io/ssl-redirect", "defaultBackend:", "name: fallback", "number: 8081", "name: cart", "name: http", "pathType: Exact"} {
		if !strings.Contains(fs[0].Remediation, s) {
			t.Errorf("fix lacks %q:\n%s", s, fs[0].Remediation)
		}
	}
	if strings.Contains(fs[0].Remediation, "serviceName") {
		t.Errorf("fix keeps serviceName:\n%s", fs[0].Remediation)
	}
}
