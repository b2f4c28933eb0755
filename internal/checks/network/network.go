// Package network holds the checks of how workloads are exposed beyond the
// cluster: Services that open ports on nodes or load balancers or claim
// external IPs, and Ingresses that serve plain HTTP or name TLS
// certificates the input does not hold.
//
// Only the Kubernetes kinds are read: Service of v1 (not Knative's Service)
// and Ingress of networking.k8s.io/v1, the only Ingress version current
// API servers serve, and of the versions Kubernetes v1.22 removed
// (extensions/v1beta1, networking.k8s.io/v1beta1), which older clusters and
// old charts still carry: their TLS is judged the same, and
// ingress-api-removed says that the version is gone.
package network

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	ServiceExposed,
	ServiceExternalIPs,
	IngressTLS,
	IngressTLSSecretMissing,
	IngressAPIRemoved,
}

const (
	serviceKind       = "Service"
	ingressKind       = "Ingress"
	ingressAPIVersion = "networking.k8s.io/v1"
)

var specPath = object.Path{}.Key("spec")

// serviceSpec decodes the spec of a core Service; ok is false for other
// kinds named Service and for a spec of the wrong shape, which the API
// server would reject.
func serviceSpec(o *object.Object) (spec corev1.ServiceSpec, ok bool) {
	if o.Ref.APIVersion != "v1" || o.Ref.Kind != serviceKind {
		return spec, false
	}
	if err := o.Decode(specPath, &spec); err != nil {
		return spec, false
	}
	return spec, true
}

// ingressSpec decodes the spec of a networking.k8s.io/v1 Ingress, as
// serviceSpec does a Service's.
func ingressSpec(o *object.Object) (spec networkingv1.IngressSpec, ok bool) {
	if o.Ref.Kind != ingressKind {
		return spec, false
	}
	switch o.Ref.APIVersion {
	case ingressAPIVersion:
		if err := o.Decode(specPath, &spec); err != nil {
			return spec, false
		}
		return spec, true
	case "extensions/v1beta1", "networking.k8s.io/v1beta1":
		// Both removed versions have the same shape: what the TLS checks
		// read (hosts, TLS entries, a default backend) carries over.
		var old extensionsv1beta1.IngressSpec
		if err := o.Decode(specPath, &old); err != nil {
			return spec, false
		}
		for _, t := range old.TLS {
			spec.TLS = append(spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
		}
		for _, r := range old.Rules {
			spec.Rules = append(spec.Rules, networkingv1.IngressRule{Host: r.Host})
		}
		if old.Backend != nil {
			spec.DefaultBackend = &networkingv1.IngressBackend{}
		}
		return spec, true
	}
	return spec, false
}

func quote(s string) string { return strconv.Quote(s) }
