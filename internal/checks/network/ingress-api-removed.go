package network

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// IngressAPIRemoved reports Ingresses of extensions/v1beta1 and
// networking.k8s.io/v1beta1, which Kubernetes v1.22 stopped serving. The
// other Ingress checks still judge them (old charts and old clusters carry
// them), but an API server of v1.22 or later refuses them: the manifest
// does not apply there at all.
var IngressAPIRemoved = check.Check{
	ID:       "ingress-api-removed",
	Title:    "Ingress uses an API version Kubernetes removed",
	Severity: finding.Medium,
	Category: "Network exposure",
	Rationale: "The Kubernetes deprecated API migration guide lists Ingress in extensions/v1beta1 and networking.k8s.io/v1beta1 as " +
		"no longer served since v1.22: a manifest that still uses them is refused by every supported API server, and the " +
		"security settings it carries (TLS) are not applied.",
	Remediation: "Migrate to networking.k8s.io/v1: apiVersion networking.k8s.io/v1, each backend's serviceName and servicePort become\n" +
		"  backend:\n    service:\n      name: <serviceName>\n      port:\n        number: <servicePort>\n" +
		"every path gets a pathType (Prefix or Exact), and spec.backend becomes spec.defaultBackend.",
	DocURL: "https://kubernetes.io/docs/reference/using-api/deprecation-guide/#ingress-v122",
	Kinds:  []string{ingressKind},
	Run: func(p *check.Pass) {
		switch v := p.Object.Ref.APIVersion; v {
		case "extensions/v1beta1", "networking.k8s.io/v1beta1":
			p.Report(check.Diagnostic{
				Remediation: migrated(p.Object),
				Path:        object.Path{}.Key("apiVersion"),
				Reason:      "Ingress in " + v,
				Detail: "Ingress " + quote(p.Object.Ref.Name) + " uses " + v + ", which Kubernetes v1.22 and later do not serve: " +
					"the API server refuses it",
			})
		}
	},
}
