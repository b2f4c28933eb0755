package serviceaccount

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// LegacyToken reports Secrets of type kubernetes.io/service-account-token:
// legacy ServiceAccount tokens that never expire. It reads the type and
// the annotation naming the ServiceAccount, never the data; the
// secret-in-manifest check leaves these Secrets to this one.
var LegacyToken = check.Check{
	ID:       "service-account-legacy-token",
	Title:    "Long-lived ServiceAccount token Secret",
	Severity: finding.Medium,
	Category: Category,
	Rationale: "A Secret of type kubernetes.io/service-account-token holds a ServiceAccount token that does not expire and is " +
		"bound to no pod: whoever reads it once holds the ServiceAccount's permissions until the Secret is deleted. Kubernetes " +
		"stopped creating them in v1.24 and cleans up unused ones since v1.29; the Secrets documentation says to use the " +
		"TokenRequest API for short-lived, automatically rotating tokens instead, and the security checklist asks for bound " +
		"ServiceAccount token volumes instead of non-expiring tokens.",
	Remediation: "Delete the Secret. Pods get a bound, rotating token from a projected volume (or automounting):\n" +
		"  volumes:\n  - name: api-token\n    projected:\n      sources:\n      - serviceAccountToken:\n" +
		"          path: token\n          expirationSeconds: 3600\n          audience: my-api\n" +
		"and a client outside the cluster requests a short-lived one when it needs it:\n" +
		"  kubectl create token deployer --namespace ci --duration 1h",
	DocURL: "https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets",
	Kinds:  []string{"Secret"},
	Run: func(p *check.Pass) {
		o := p.Object
		if o.Ref.APIVersion != "v1" {
			return
		}
		var typ string
		if err := o.Decode(object.Path{}.Key("type"), &typ); err != nil || typ != secrets.ServiceAccountTokenType {
			return
		}
		who := "the ServiceAccount its kubernetes.io/service-account.name annotation should name (it names none)"
		if sa := o.Annotations["kubernetes.io/service-account.name"]; sa != "" {
			who = "ServiceAccount " + saRef(o.Ref.Namespace, sa)
		}
		p.Report(check.Diagnostic{
			Path:   object.Path{}.Key("type"),
			Reason: "long-lived ServiceAccount token Secret",
			Detail: "Secret " + quote(o.Ref.Name) + " asks the token controller for a token of " + who +
				" that never expires; the token is not shown",
		})
	},
}
