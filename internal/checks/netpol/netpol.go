// Package netpol holds the checks of NetworkPolicy mistakes that the
// connectivity engine (package internal/netpol, `kubeguard netpol`) finds
// in one policy: peers written as two list items where one was meant,
// namespace selectors that select no namespace of the input, and egress to
// the cloud metadata address.
package netpol

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/netpol"
)

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	PeersOrNotAnd,
	NamespaceSelectorMatchesNothing,
	EgressToMetadata,
}

const (
	category      = "Network policy"
	policyKind    = "NetworkPolicy"
	namespaceKind = "Namespace"
	docURL        = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
)

// issues returns the engine's issues of one kind for the pass's
// NetworkPolicy.
func issues(p *check.Pass, kind netpol.IssueKind) []netpol.Issue {
	d := netpol.Decode(p.Object)
	if d.Policy == nil {
		return nil // not a networking.k8s.io/v1 NetworkPolicy, or malformed
	}
	var namespaces []netpol.Namespace
	for _, o := range p.Context.List(namespaceKind) {
		if o.Ref.APIVersion == "v1" {
			namespaces = append(namespaces, netpol.Namespace{Name: o.Ref.Name, Labels: o.Labels})
		}
	}
	var out []netpol.Issue
	for _, is := range netpol.Lint(d.Policy, namespaces) {
		if is.Kind == kind {
			out = append(out, is)
		}
	}
	return out
}

// report reports every issue of a kind.
func report(p *check.Pass, kind netpol.IssueKind, reason string) {
	for _, is := range issues(p, kind) {
		p.Report(check.Diagnostic{Path: is.Path, Reason: reason, Detail: is.Detail})
	}
}
