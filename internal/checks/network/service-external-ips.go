package network

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// ServiceExternalIPs reports Services that set spec.externalIPs, of any
// type.
var ServiceExternalIPs = check.Check{
	ID:       "service-external-ips",
	Title:    "Service sets externalIPs",
	Severity: finding.High,
	Category: "Network exposure",
	Rationale: "kube-proxy routes traffic for a Service's externalIPs to its pods on every node, whatever the address: " +
		"Kubernetes does not check that the IP belongs to the cluster or to the Service's owner. CVE-2020-8554 is the result, a " +
		"design flaw left unpatched: anyone who may create or update a Service can claim another Service's or an outside host's " +
		"IP and intercept the cluster's traffic to it. The Kubernetes Service documentation and the CVE's advisory recommend not " +
		"using externalIPs and denying them with the DenyServiceExternalIPs admission plugin, or an admission policy that allows " +
		"only approved addresses.",
	Remediation: "Remove spec.externalIPs, and expose the Service through a LoadBalancer or an Ingress:\n" +
		"  spec:\n    externalIPs: null\n" +
		"Deny the field cluster-wide on the API server too:\n" +
		"  kube-apiserver --enable-admission-plugins=DenyServiceExternalIPs,...",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/service/#external-ips",
	Kinds:  []string{serviceKind},
	Run: func(p *check.Pass) {
		spec, ok := serviceSpec(p.Object)
		if !ok || len(spec.ExternalIPs) == 0 {
			return
		}
		p.Report(check.Diagnostic{
			Path:   specPath.Key("externalIPs"),
			Reason: "externalIPs set",
			Remediation: patch(p.Object, "Remove spec.externalIPs, and expose the Service through a LoadBalancer or an Ingress",
				object.Change{Path: specPath.Key("externalIPs"), Remove: true}) +
				"\nDeny the field cluster-wide on the API server too:\n  kube-apiserver --enable-admission-plugins=DenyServiceExternalIPs,...",
			Detail: "Service " + quote(p.Object.Ref.Name) + " claims external IPs " + strings.Join(spec.ExternalIPs, ", ") +
				": every node routes traffic for them to the Service's pods, the man-in-the-middle of CVE-2020-8554 when the " +
				"address is not the Service's own",
		})
	},
}
