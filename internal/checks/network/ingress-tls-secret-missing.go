package network

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	networkingv1 "k8s.io/api/networking/v1"
)

// certManagerAnnotations make cert-manager's ingress-shim create a
// Certificate for every spec.tls entry of the Ingress, which writes the
// entry's Secret. kubernetes.io/tls-acme does so when cert-manager has a
// default issuer configured.
var certManagerAnnotations = []string{
	"cert-manager.io/issuer",
	"cert-manager.io/cluster-issuer",
	"kubernetes.io/tls-acme",
}

// IngressTLSSecretMissing reports spec.tls entries whose secretName names
// a Secret the input does not hold. It counts as present: a v1 Secret of
// that name in the Ingress's namespace, a cert-manager Certificate there
// whose spec.secretName is that name, and any secret of an Ingress that
// asks cert-manager's ingress-shim for certificates by annotation. The
// finding is information only: certificates are often issued outside the
// manifests (another repository, an external secrets operator, a person),
// so the Secret may well exist. Entries without a secretName, which use
// the controller's default certificate, are not reported.
var IngressTLSSecretMissing = check.Check{
	ID:       "ingress-tls-secret-missing",
	Title:    "Ingress TLS Secret not in the input",
	Severity: finding.Info,
	Category: "Network exposure",
	Rationale: "The Kubernetes Ingress documentation has TLS certificates come from a Secret of type kubernetes.io/tls in the " +
		"Ingress's namespace. When the Secret does not exist the Ingress is still admitted, and most controllers serve the host " +
		"with their default, usually self-signed, certificate, or without TLS: clients see certificate errors, and users learn to " +
		"click through them.",
	Remediation: "Make sure the Secret exists in the Ingress's namespace, for example by having cert-manager issue it:\n" +
		"  apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata:\n    name: shop-example-com\n    namespace: shop\n" +
		"  spec:\n    secretName: shop-example-com-tls\n    dnsNames:\n    - shop.example.com\n" +
		"    issuerRef:\n      name: letsencrypt\n      kind: ClusterIssuer",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/ingress/#tls",
	Kinds:  []string{ingressKind},
	Scope:  check.ScopeInput,
	Needs:  []string{"Secret", "Certificate"},
	Run: func(p *check.Pass) {
		spec, ok := ingressSpec(p.Object)
		if !ok {
			return
		}
		for _, a := range certManagerAnnotations {
			if v := strings.TrimSpace(p.Object.Annotations[a]); v != "" && v != "false" {
				return
			}
		}
		ns := p.Object.Ref.Namespace
		for i, t := range spec.TLS {
			if t.SecretName == "" || secretPresent(p.Context, ns, t.SecretName) {
				continue
			}
			detail := "Secret " + quote(t.SecretName) + " is not in the input, nor a cert-manager Certificate that writes it"
			if elsewhere := secretNamespaces(p.Context, ns, t.SecretName); len(elsewhere) > 0 {
				detail += "; a Secret of that name is in namespace " + strings.Join(elsewhere, ", ") +
					", but an Ingress reads Secrets of its own namespace only"
			}
			detail += ". It may be created elsewhere (another repository, an external secrets operator, by hand); " +
				"if it does not exist, the controller serves its default certificate or no TLS"
			p.Report(check.Diagnostic{
				Path:        specPath.Key("tls").Index(i).Key("secretName"),
				Reason:      "TLS Secret not in the input",
				Detail:      detail,
				Remediation: certificate(ns, t.SecretName, tlsHosts(t, spec)),
			})
		}
	},
}

// tlsHosts are the hosts a TLS entry's certificate must name: its own,
// or, for an entry without hosts, those of the rules.
func tlsHosts(t networkingv1.IngressTLS, spec networkingv1.IngressSpec) []string {
	if len(t.Hosts) > 0 {
		return t.Hosts
	}
	var hosts []string
	for _, r := range spec.Rules {
		if r.Host != "" && !slices.Contains(hosts, r.Host) {
			hosts = append(hosts, r.Host)
		}
	}
	return hosts
}

// certificate is the fix of a missing TLS Secret: a cert-manager
// Certificate that writes it, in the Ingress's namespace, for its hosts.
// Which issuer signs it is the cluster's: a slot to fill.
func certificate(ns, secret string, hosts []string) string {
	var b strings.Builder
	b.WriteString("Make sure the Secret exists in the Ingress's namespace, for example by having cert-manager issue it " +
		"(fill in the <issuer> of your cluster):\n")
	b.WriteString("  apiVersion: cert-manager.io/v1\n  kind: Certificate\n  metadata:\n    name: " + secret + "\n")
	if ns != "" {
		b.WriteString("    namespace: " + ns + "\n")
	}
	b.WriteString("  spec:\n    secretName: " + secret + "\n    dnsNames:\n")
	if len(hosts) == 0 {
		hosts = []string{"<host>"}
	}
	for _, h := range hosts {
		b.WriteString("    - " + strconv.Quote(h) + "\n")
	}
	b.WriteString("    issuerRef:\n      name: <issuer>\n      kind: ClusterIssuer")
	return b.String()
}

// secretPresent reports whether the input holds Secret name in namespace
// ns, or a cert-manager Certificate there that writes it.
func secretPresent(ctx *check.Context, ns, name string) bool {
	if s := ctx.Lookup("Secret", ns, name); s != nil && s.Ref.APIVersion == "v1" {
		return true
	}
	for _, c := range ctx.List("Certificate") {
		if c.Ref.Namespace != ns || !strings.HasPrefix(c.Ref.APIVersion, "cert-manager.io/") {
			continue
		}
		var secretName string
		if err := c.Decode(object.Path{}.Keys("spec", "secretName"), &secretName); err == nil && secretName == name {
			return true
		}
	}
	return false
}

// secretNamespaces lists the other namespaces where the input holds a
// Secret called name.
func secretNamespaces(ctx *check.Context, ns, name string) []string {
	var out []string
	for _, s := range ctx.List("Secret") {
		if s.Ref.APIVersion == "v1" && s.Ref.Name == name && s.Ref.Namespace != ns {
			where := s.Ref.Namespace
			if where == "" {
				where = "(none)"
			}
			out = append(out, quote(where))
		}
	}
	return out
}
