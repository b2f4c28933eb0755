// Package netpol holds the checks of NetworkPolicy mistakes that the
// connectivity engine (package internal/netpol, `kubeguard netpol`) finds
// in one policy: peers written as two list items where one was meant,
// namespace selectors that select no namespace of the input, egress to
// the cloud metadata address, ingress open to every namespace; and, from
// the engine's compact summary of the input's pods (netpol.Pods, one entry
// per distinct label set and named ports, not per pod), policies that
// select no pod and named ports no destination pod declares.
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
	FromEveryNamespace,
	SelectsNoPod,
	NamedPortUndeclared,
	NamedPortProtocol,
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
	all := p.Memo("netpol.Lint", func() any {
		d := netpol.Decode(p.Object)
		if d.Policy == nil {
			return []netpol.Issue(nil) // not a networking.k8s.io/v1 NetworkPolicy, or malformed
		}
		return netpol.Lint(d.Policy, namespaces(p))
	}).([]netpol.Issue)
	return ofKind(all, kind)
}

// namespaces are the input's Namespaces, as the engine takes them.
func namespaces(p *check.Pass) []netpol.Namespace {
	var out []netpol.Namespace
	for _, o := range p.Context.List(namespaceKind) {
		if o.Ref.APIVersion == "v1" {
			out = append(out, netpol.Namespace{Name: o.Ref.Name, Labels: o.Labels})
		}
	}
	return out
}

// ofKind keeps the issues of one kind.
func ofKind(all []netpol.Issue, kind netpol.IssueKind) []netpol.Issue {
	var out []netpol.Issue
	for _, is := range all {
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

// reportPods reports every issue of a kind that the engine finds with the
// summary of the input's pods; nothing when the run layer made none (the
// input has no NetworkPolicy, or the front has no pods to give).
func reportPods(p *check.Pass, kind netpol.IssueKind, reason string) {
	pods, _ := p.Context.Pods().(*netpol.Pods)
	if pods == nil {
		return
	}
	all := p.Memo("netpol.LintPods", func() any {
		d := netpol.Decode(p.Object)
		if d.Policy == nil {
			return []netpol.Issue(nil)
		}
		return netpol.LintPods(d.Policy, namespaces(p), pods)
	}).([]netpol.Issue)
	for _, is := range ofKind(all, kind) {
		p.Report(check.Diagnostic{Path: is.Path, Reason: reason, Detail: is.Detail})
	}
}
