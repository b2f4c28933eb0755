package network

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// controllerTLSAnnotations configure TLS for an Ingress outside spec.tls,
// on the load balancer or in the backend. With one of them set, what the
// manifest shows says nothing about which hosts are served over TLS, so
// ingress-tls leaves the Ingress alone. The value true is required where
// the annotation is a switch.
var controllerTLSAnnotations = []struct {
	name, value string // value "" means any non-empty value
}{
	{"alb.ingress.kubernetes.io/certificate-arn", ""},         // AWS Load Balancer Controller
	{"ingress.gcp.kubernetes.io/pre-shared-cert", ""},         // GKE
	{"networking.gke.io/managed-certificates", ""},            // GKE
	{"appgw.ingress.kubernetes.io/appgw-ssl-certificate", ""}, // Azure Application Gateway
	{"nginx.ingress.kubernetes.io/ssl-passthrough", "true"},   // ingress-nginx: the backend terminates TLS
}

// controllerTLS returns the annotation that configures TLS outside
// spec.tls, or "".
func controllerTLS(annotations map[string]string) string {
	for _, a := range controllerTLSAnnotations {
		v := strings.TrimSpace(annotations[a.name])
		if v != "" && (a.value == "" || v == a.value) {
			return a.name
		}
	}
	return ""
}

// tlsCovers reports whether an entry of tls serves host over TLS. An entry
// that lists no hosts covers every host: the Ingress API defaults it to the
// controller's wildcard host. A listed wildcard (*.example.com) covers the
// names one label below it, as a wildcard certificate does, and itself. A
// rule without a host matches every host, so only an entry without hosts
// covers it.
func tlsCovers(tls []networkingv1.IngressTLS, host string) bool {
	host = strings.ToLower(host)
	for _, t := range tls {
		if len(t.Hosts) == 0 {
			return true
		}
		if host == "" {
			continue
		}
		for _, h := range t.Hosts {
			h = strings.ToLower(h)
			if h == host {
				return true
			}
			if suffix, ok := strings.CutPrefix(h, "*"); ok && strings.HasPrefix(suffix, ".") {
				if label, rest, ok := strings.Cut(host, "."); ok && label != "" && label != "*" && "."+rest == suffix {
					return true
				}
			}
		}
	}
	return false
}
