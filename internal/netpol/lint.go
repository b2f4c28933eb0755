package netpol

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/object"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/intstr"
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
	// FromEveryNamespace: an ingress rule of a policy that isolates
	// ingress whose peers admit every pod of every namespace (no peer, or
	// a peer with an empty namespaceSelector and no podSelector, or an
	// empty one): the selected pods are reachable, on the rule's ports,
	// from any pod of the cluster, as the exposure command counts them.
	FromEveryNamespace
	// SelectsNoPod: a policy whose podSelector selects no pod or pod
	// template of its namespace in the input, although the namespace has
	// some (LintPods).
	SelectsNoPod
	// NamedPortUndeclared: a rule's named port that none of the pods it
	// resolves against declares (LintPods).
	NamedPortUndeclared
	// NamedPortProtocol: a rule's named port that the pods it resolves
	// against declare only with another protocol (LintPods).
	NamedPortProtocol
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
			if dir == 0 && c.ingress && r.everyPod() {
				from := "every pod of every namespace"
				if len(r.peers) == 0 {
					from = "every pod of every namespace and every address outside the cluster (the rule has no from)"
				}
				pods := fmt.Sprintf("the pods that podSelector {%s} selects", c.selector)
				if c.selector.Empty() {
					pods = "every pod of namespace " + c.Namespace
				}
				out = append(out, Issue{Kind: FromEveryNamespace, Path: rulePath,
					Detail: fmt.Sprintf("%s accept connections from %s, on %s", pods, from, r.portsString())})
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

// portsString renders a rule's ports as a policy writes them, "every port"
// when it has none.
func (r *rule) portsString() string {
	if len(r.ports) == 0 {
		return "every port"
	}
	parts := make([]string, len(r.ports))
	for i, p := range r.ports {
		parts[i] = p.String()
	}
	return "ports " + strings.Join(parts, ", ")
}

// LintPods finds the mistakes of one policy that only the input's pods
// show: a podSelector that selects none of the pods of its namespace, and
// named ports that none of the pods they resolve against declares (with
// the protocol asked). It says nothing where the input holds no pod to
// judge by: a policy whose namespace has no pod in the input (a chart of
// policies alone, pods deployed elsewhere), a named port of a rule whose
// destinations the input does not hold, and namespaces with custom
// resources that may make pods (Pods.AddOpaque). namespaces are the input's
// Namespaces, for the labels namespaceSelectors match.
func LintPods(p *Policy, namespaces []Namespace, pods *Pods) []Issue {
	c, err := compile(p)
	if err != nil || pods == nil {
		return nil
	}
	own := pods.In(c.Namespace)
	if len(own) == 0 || pods.opaque[c.Namespace] {
		return nil // nothing to judge by: the pods live elsewhere, or some are not shown
	}
	var selected []*PodShape
	hostOnly := 0
	for _, s := range own {
		if c.selector.Matches(s.Labels) {
			if s.HostNetwork {
				hostOnly++
				continue
			}
			selected = append(selected, s)
		}
	}
	var out []Issue
	if len(selected) == 0 {
		detail := fmt.Sprintf("podSelector {%s} selects none of the %s of namespace %s in the input", c.selector, shapes(len(own)), c.Namespace)
		if hostOnly > 0 {
			detail = fmt.Sprintf("podSelector {%s} selects only pods on the host network in namespace %s, which NetworkPolicy does not govern", c.selector, c.Namespace)
		}
		out = append(out, Issue{Kind: SelectsNoPod, Path: specPath.Key("podSelector"),
			Detail: detail + ": the policy applies to no pod, so it isolates none and allows nothing" + closest(c.selector, own)})
		return out // its named ports resolve against no pod: nothing more to say
	}
	nsLabels := map[string]labels.Set{}
	for _, ns := range namespaces {
		set := make(labels.Set, len(ns.Labels)+1)
		maps.Copy(set, ns.Labels)
		set[MetadataNameLabel] = ns.Name
		nsLabels[ns.Name] = set
	}
	labelsOf := func(ns string) labels.Set {
		if s, ok := nsLabels[ns]; ok {
			return s
		}
		return labels.Set{MetadataNameLabel: ns}
	}
	var all []*PodShape // every shape, for egress rules
	for dir := range 2 {
		field := "ingress"
		n := len(p.Spec.Ingress)
		if dir == 1 {
			field, n = "egress", len(p.Spec.Egress)
		}
		for i := range n {
			var ports []networkingv1.NetworkPolicyPort
			if dir == 0 {
				ports = p.Spec.Ingress[i].Ports
			} else {
				ports = p.Spec.Egress[i].Ports
			}
			if !slices.ContainsFunc(ports, func(pt networkingv1.NetworkPolicyPort) bool { return pt.Port != nil && pt.Port.Type == intstr.String }) {
				continue
			}
			// The pods a named port resolves against: the selected ones
			// for ingress; for egress, the pods of the input the rule's
			// peers select (a rule without peers reaches pods the input
			// may not hold: nothing to judge by).
			// The pods a named port resolves against: the selected ones
			// for ingress; for egress, the pods of the input the rule's
			// peers select (a rule without peers reaches pods the input
			// may not hold: nothing to judge by). For egress, only
			// whether there are any, and which declare the name, is
			// asked, so that a rule costs a selector match per shape at
			// most, as the engine's index costs per peer and workload.
			where := fmt.Sprintf("the pods the policy selects (%s)", shapes(len(selected)))
			dest := func(s *PodShape) bool { return true }
			candidates := selected
			if dir == 1 {
				r := &c.outRules[i]
				if len(r.peers) == 0 {
					continue
				}
				dest = func(s *PodShape) bool { return !s.HostNetwork && peersSelect(c, r, s, labelsOf(s.Namespace)) }
				if all == nil {
					for _, ns := range pods.Namespaces() {
						all = append(all, pods.In(ns)...)
					}
				}
				if !slices.ContainsFunc(all, dest) || peersReachOpaque(c, r, pods, labelsOf) {
					continue
				}
				candidates = all
				where = "the pods of the input the rule's peers select"
			}
			for k, pt := range ports {
				if pt.Port == nil || pt.Port.Type != intstr.String {
					continue
				}
				proto := TCP
				if pt.Protocol != nil {
					proto, _ = ParseProtocol(string(*pt.Protocol))
				}
				name := pt.Port.StrVal
				var same, other bool
				for _, s := range candidates {
					sm, ot := s.declares(name, proto)
					if (sm || ot && !other) && dest(s) {
						same, other = same || sm, other || ot
					}
					if same {
						break
					}
				}
				if same {
					continue
				}
				is := Issue{Kind: NamedPortUndeclared, Path: specPath.Key(field).Index(i).Key("ports").Index(k).Key("port"),
					Detail: fmt.Sprintf("named port %q (%s) is declared by no container of %s: the port matches nothing", name, proto, where)}
				if other {
					is.Kind = NamedPortProtocol
					if pt.Protocol != nil {
						is.Path = specPath.Key(field).Index(i).Key("ports").Index(k).Key("protocol")
					}
					is.Detail = fmt.Sprintf("named port %q is declared by %s only with another protocol than %s: a named port matches a container port of the same name and protocol, so it matches nothing", name, where, proto)
				}
				out = append(out, is)
			}
		}
	}
	return out
}

// peersSelect reports whether one of a rule's pod peers selects pods of
// the shape, whose namespace has the labels nsLabels.
func peersSelect(c *policy, r *rule, s *PodShape, nsLabels labels.Set) bool {
	for i := range r.peers {
		pe := &r.peers[i]
		if pe.ipBlock {
			continue
		}
		if pe.namespaces == nil {
			if s.Namespace != c.Namespace {
				continue
			}
		} else if !pe.namespaces.Matches(nsLabels) {
			continue
		}
		if pe.pods == nil || pe.pods.Matches(s.Labels) {
			return true
		}
	}
	return false
}

// peersReachOpaque reports whether a rule's pod peers may select pods of
// a namespace whose pods the summary does not all show.
func peersReachOpaque(c *policy, r *rule, pods *Pods, labelsOf func(string) labels.Set) bool {
	for ns := range pods.opaque {
		for i := range r.peers {
			pe := &r.peers[i]
			switch {
			case pe.ipBlock:
			case pe.namespaces == nil && ns == c.Namespace, pe.namespaces != nil && pe.namespaces.Matches(labelsOf(ns)):
				return true
			}
		}
	}
	return false
}

// shapes counts distinct label sets in words.
func shapes(n int) string {
	if n == 1 {
		return "1 distinct pod label set"
	}
	return fmt.Sprintf("%d distinct pod label sets", n)
}

// closest names, when there is one, a label set of the namespace that the
// selector would select but for the value of one label it has, the usual
// typo.
func closest(sel labels.Selector, own []*PodShape) string {
	reqs, ok := sel.Requirements()
	if !ok || len(reqs) == 0 {
		return ""
	}
	for _, s := range own {
		if s.HostNetwork {
			continue
		}
		miss, valueOnly := 0, false
		for _, r := range reqs {
			if !r.Matches(s.Labels) {
				miss++
				valueOnly = s.Labels.Has(r.Key())
			}
		}
		if miss == 1 && valueOnly {
			return fmt.Sprintf(" (pods with labels {%s} miss it by the value of one label)", s.Labels)
		}
	}
	return ""
}
