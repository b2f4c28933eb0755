package network

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// tlsFix says what an ingress-tls fix does.
const tlsFix = "Serve the host over TLS: add it to spec.tls with a certificate Secret in the Ingress's namespace, and leave the rules as they are"

// IngressTLS reports Ingresses that serve traffic over plain HTTP: one that
// routes anything (rules or a default backend) and has no spec.tls, and each
// rule whose host no spec.tls entry covers (see tlsCovers). An Ingress whose
// controller is given a certificate by annotation (see
// controllerTLSAnnotations) is left alone.
var IngressTLS = check.Check{
	ID:       "ingress-tls",
	Title:    "Ingress serves plain HTTP",
	Severity: finding.Medium,
	Category: "Network exposure",
	Rationale: "The Kubernetes Ingress documentation secures an Ingress by naming, in spec.tls, the hosts to serve over TLS and " +
		"the Secret holding their certificate; a host left out is served over plain HTTP, where credentials, session cookies " +
		"and data cross the network in clear text and can be read or altered in transit.",
	// Only spec.tls: the rules, backends included, stay as they are.
	Remediation: "Serve every host over TLS: add the hosts of the rules to spec.tls, with a certificate Secret in the " +
		"Ingress's namespace, and leave the rules as they are:\n" +
		"  spec:\n    tls:\n    - hosts:\n      - shop.example.com\n      secretName: shop-example-com-tls",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/ingress/#tls",
	Kinds:  []string{ingressKind},
	Run: func(p *check.Pass) {
		spec, ok := ingressSpec(p.Object)
		if !ok || controllerTLS(p.Object.Annotations) != "" {
			return
		}
		name := quote(p.Object.Ref.Name)
		if len(spec.TLS) == 0 {
			if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
				return
			}
			var hosts []string
			for _, r := range spec.Rules {
				if r.Host != "" {
					hosts = append(hosts, r.Host)
				}
			}
			served := "every host it routes"
			if len(hosts) > 0 && len(hosts) == len(spec.Rules) && spec.DefaultBackend == nil {
				served = strings.Join(hosts, ", ")
			}
			// One certificate for every host the rules name; an entry
			// without hosts when a rule or the default backend has none.
			entry := map[string]any{"secretName": p.Object.Ref.Name + "-tls"}
			if len(hosts) > 0 && len(hosts) == len(spec.Rules) && spec.DefaultBackend == nil {
				entry = map[string]any{"hosts": hosts, "secretName": secretFor(hosts[0])}
			}
			p.Report(check.Diagnostic{
				Remediation: patch(p.Object, tlsFix, object.Change{Path: specPath.Key("tls"), Value: tlsList(nil, entry)}),
				Path:        specPath.Key("tls"),
				Reason:      "no TLS",
				Detail:      "Ingress " + name + " has no spec.tls: it serves " + served + " over plain HTTP",
			})
			return
		}
		for i, r := range spec.Rules {
			if tlsCovers(spec.TLS, r.Host) {
				continue
			}
			detail := "host " + quote(r.Host) + " of Ingress " + name + " is in no spec.tls entry: it is served over plain HTTP"
			if r.Host == "" {
				detail = "rule " + specPath.Key("rules").Index(i).String() + " of Ingress " + name + " has no host, so it " +
					"matches every host, and every spec.tls entry lists hosts: requests for other hosts are served over plain HTTP"
			}
			// spec.tls has no merge key: the patch is the whole list,
			// the host's entry added.
			entry := map[string]any{"secretName": secretFor(r.Host)}
			if r.Host != "" {
				entry["hosts"] = []string{r.Host}
			}
			p.Report(check.Diagnostic{
				Remediation: patch(p.Object, tlsFix, object.Change{Path: specPath.Key("tls"), Value: tlsList(spec.TLS, entry)}),
				Path:        specPath.Key("rules").Index(i).Key("host"),
				Reason:      "host not covered by TLS",
				Detail:      detail,
			})
		}
	},
}
