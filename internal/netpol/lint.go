package netpol

import (
	"fmt"

	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// IssueKind names a kind of policy mistake Lint finds.
type IssueKind int

// The issues.
const (
	// PeersOrNotAnd: a peer list where one item has only a
	// namespaceSelector and the next only a podSelector (or the reverse):
	// two peers, OR, where one peer with both, AND, was likely meant, as
	// the NetworkPolicy documentation warns. The rule admits every pod of
	// the namespaces and every matching pod of the policy's own.
	PeersOrNotAnd IssueKind = iota + 1
	// SelectsNoNamespace: a namespaceSelector that selects none of the
	// input's Namespaces although they carry the label keys it asks for
	// (a typo in a value), so that its peer never matches. A selector by
	// kubernetes.io/metadata.name, or by keys no namespace of the input
	// uses, may well name a namespace defined elsewhere: it is left alone.
	SelectsNoNamespace
	// EgressToMetadata: an egress rule that lets the selected pods reach
	// the cloud metadata address 169.254.169.254 on TCP port 80.
	EgressToMetadata
)

// Issue is one mistake, at the field it concerns.
type Issue struct {
	Kind   IssueKind
	Path   object.Path
	Detail string
}

// Lint finds the mistakes of one policy. namespaces are the input's
// Namespaces; SelectsNoNamespace is looked for only when there are some
// (a policy read alone may well select namespaces defined elsewhere). A
// policy the API server would refuse has no issues here: it is an input
// error.
func Lint(p *Policy, namespaces []Namespace) []Issue {
	c, err := compile(p)
	if err != nil {
		return nil
	}
	var out []Issue
	for dir, rules := range [2][]rule{c.inRules, c.outRules} {
		field, peers := "ingress", "from"
		if dir == 1 {
			field, peers = "egress", "to"
		}
		for i := range rules {
			r := &rules[i]
			rulePath := specPath.Key(field).Index(i)
			var spec []peerShape
			if dir == 0 {
				for _, pe := range p.Spec.Ingress[i].From {
					spec = append(spec, peerShape{pe.PodSelector != nil, pe.NamespaceSelector != nil, pe.IPBlock != nil})
				}
			} else {
				for _, pe := range p.Spec.Egress[i].To {
					spec = append(spec, peerShape{pe.PodSelector != nil, pe.NamespaceSelector != nil, pe.IPBlock != nil})
				}
			}
			for j := 1; j < len(spec); j++ {
				a, b := spec[j-1], spec[j]
				if a.onlyNamespaces() && b.onlyPods() || a.onlyPods() && b.onlyNamespaces() {
					out = append(out, Issue{Kind: PeersOrNotAnd, Path: rulePath.Key(peers).Index(j),
						Detail: fmt.Sprintf("%s[%d] and %s[%d] are two peers (either matches), one with only a namespaceSelector and one with only a podSelector; written as one peer (both must match) it would admit only the selected pods of the selected namespaces", peers, j-1, peers, j)})
				}
			}
			if len(namespaces) > 0 {
				for j := range r.peers {
					pe := &r.peers[j]
					if pe.namespaces == nil || pe.namespaces.Empty() || !knownKeys(pe.namespaces, namespaces) || selectsAny(pe.namespaces, namespaces) {
						continue
					}
					out = append(out, Issue{Kind: SelectsNoNamespace, Path: rulePath.Key(peers).Index(j).Key("namespaceSelector"),
						Detail: fmt.Sprintf("namespaceSelector {%s} selects none of the input's %d Namespaces, although they carry the labels it names: the peer never matches", pe.namespaces, len(namespaces))})
				}
			}
			if dir == 1 && c.egress {
				dst := Endpoint{IP: MetadataAddress}
				if m, _ := (&Network{}).ruleMatches(c, r, dst); m && r.portsTo(dst).Has(TCP, 80) {
					why := "the rule has no peers, so it allows every destination"
					if len(r.peers) > 0 {
						why = "an ipBlock of the rule contains it and does not except it"
					}
					out = append(out, Issue{Kind: EgressToMetadata, Path: rulePath,
						Detail: fmt.Sprintf("the selected pods may connect to the cloud metadata address %s on TCP port 80: %s", MetadataAddress, why)})
				}
			}
		}
	}
	return out
}

// peerShape is which fields of a peer are set.
type peerShape struct{ pods, namespaces, ipBlock bool }

func (s peerShape) onlyNamespaces() bool { return s.namespaces && !s.pods && !s.ipBlock }
func (s peerShape) onlyPods() bool       { return s.pods && !s.namespaces && !s.ipBlock }

func selectsAny(sel labels.Selector, namespaces []Namespace) bool {
	for _, ns := range namespaces {
		set := labels.Set{}
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[MetadataNameLabel] = ns.Name
		if sel.Matches(set) {
			return true
		}
	}
	return false
}

// knownKeys reports whether every label key a selector requires to be
// present is carried by some namespace, none of them being the name label:
// the selector then speaks the input's vocabulary of namespace labels.
func knownKeys(sel labels.Selector, namespaces []Namespace) bool {
	reqs, _ := sel.Requirements()
	positive := 0
	for _, r := range reqs {
		switch r.Operator() {
		case selection.In, selection.Equals, selection.DoubleEquals, selection.Exists:
		default:
			continue
		}
		if r.Key() == MetadataNameLabel {
			return false
		}
		positive++
		found := false
		for _, ns := range namespaces {
			if _, ok := ns.Labels[r.Key()]; ok {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return positive > 0
}
