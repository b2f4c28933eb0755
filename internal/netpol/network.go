package netpol

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/apimachinery/pkg/labels"
)

// Network is the input made ready for questions: workloads indexed by
// namespace, and for each workload the policies that isolate it.
type Network struct {
	// Workloads are the analysed workloads in input order, host-network
	// ones excluded (see OutOfScope).
	Workloads []*Workload
	// OutOfScope are the host-network workloads.
	OutOfScope []*Workload
	// Policies are the valid policies in input order.
	Policies []*Policy

	namespaces map[string]labels.Set
	byID       map[string]*Workload
	outOfScope map[string]*Workload
	policies   []*policy
	byNS       map[string][]*Workload
	indexed    bool
	// ingressOf and egressOf list, per workload, the policies that select
	// it with that policy type.
	ingressOf, egressOf [][]int32

	// ClusterPolicies are the valid cluster-scoped policies.
	ClusterPolicies []*ClusterPolicy
	// adminOf and baselineOf list, per workload, the cluster policies of
	// that tier whose subject selects it, in evaluation order; nil when the
	// input has none.
	adminOf, baselineOf [][]*clusterPolicy
}

// setClusterPolicies adds the cluster-scoped policies. Of two of the same
// kind and name the later replaces the earlier.
func (n *Network) setClusterPolicies(ps []*ClusterPolicy) []finding.InputError {
	var errs []finding.InputError
	var compiled []*clusterPolicy
	pos := map[string]int{}
	for _, p := range ps {
		c, err := compileCluster(p)
		if err != nil {
			errs = append(errs, finding.InputError{Location: p.Source, Message: fmt.Sprintf("%s: %v", p.Ref(), err)})
			continue
		}
		if i, ok := pos[p.Ref()]; ok {
			compiled[i] = c
			continue
		}
		pos[p.Ref()] = len(compiled)
		compiled = append(compiled, c)
	}
	if len(compiled) == 0 {
		return errs
	}
	sortClusterPolicies(compiled)
	n.adminOf = make([][]*clusterPolicy, len(n.Workloads))
	n.baselineOf = make([][]*clusterPolicy, len(n.Workloads))
	for _, c := range compiled {
		n.ClusterPolicies = append(n.ClusterPolicies, c.ClusterPolicy)
		for _, w := range n.Workloads {
			if !c.subject.selects(w) {
				continue
			}
			if c.Tier == AdminTier {
				n.adminOf[w.index] = append(n.adminOf[w.index], c)
			} else {
				n.baselineOf[w.index] = append(n.baselineOf[w.index], c)
			}
		}
	}
	return errs
}

// Build indexes the input. Of two namespaces, workloads or policies of the
// same name the later replaces the earlier, as applying them would. A
// policy the API server would refuse is left out and reported. A namespace
// that workloads or policies use but the input does not define has only
// the kubernetes.io/metadata.name label.
func Build(namespaces []Namespace, workloads []*Workload, policies []*Policy) (*Network, []finding.InputError) {
	n := &Network{
		namespaces: map[string]labels.Set{},
		byID:       map[string]*Workload{},
		outOfScope: map[string]*Workload{},
	}
	for _, ns := range namespaces {
		set := make(labels.Set, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[MetadataNameLabel] = ns.Name
		n.namespaces[ns.Name] = set
	}
	pos := map[string]int{}
	for _, w := range workloads {
		id := w.ID()
		if w.HostNetwork {
			n.outOfScope[id] = w
			continue
		}
		if i, ok := pos[id]; ok {
			n.Workloads[i] = w
		} else {
			pos[id] = len(n.Workloads)
			n.Workloads = append(n.Workloads, w)
		}
	}
	for id, w := range n.outOfScope {
		if _, ok := pos[id]; ok {
			delete(n.outOfScope, id) // a later definition without hostNetwork
			continue
		}
		n.OutOfScope = append(n.OutOfScope, w)
	}
	slices.SortFunc(n.OutOfScope, func(a, b *Workload) int { return strings.Compare(a.ID(), b.ID()) })
	byNS := map[string][]*Workload{}
	for i, w := range n.Workloads {
		w.index = i
		n.byID[w.ID()] = w
		byNS[w.Namespace] = append(byNS[w.Namespace], w)
		w.nsLabels = n.namespace(w.Namespace)
	}

	var errs []finding.InputError
	ppos := map[string]int{}
	for _, p := range policies {
		c, err := compile(p)
		if err != nil {
			errs = append(errs, finding.InputError{Location: p.Source, Message: fmt.Sprintf("NetworkPolicy %s: %v", p.Ref(), err)})
			continue
		}
		if i, ok := ppos[p.Ref()]; ok {
			n.policies[i] = c
			continue
		}
		ppos[p.Ref()] = len(n.policies)
		n.policies = append(n.policies, c)
	}
	n.byNS = byNS
	n.ingressOf = make([][]int32, len(n.Workloads))
	n.egressOf = make([][]int32, len(n.Workloads))
	for i, c := range n.policies {
		n.Policies = append(n.Policies, c.Policy)
		n.namespace(c.Namespace)
		for _, w := range byNS[c.Namespace] {
			if !c.selector.Matches(labels.Set(w.Labels)) {
				continue
			}
			if c.ingress {
				n.ingressOf[w.index] = append(n.ingressOf[w.index], int32(i))
			}
			if c.egress {
				n.egressOf[w.index] = append(n.egressOf[w.index], int32(i))
			}
		}
	}
	return n, errs
}

// namespace returns a namespace's labels, giving one the input does not
// define its name label.
func (n *Network) namespace(name string) labels.Set {
	s, ok := n.namespaces[name]
	if !ok {
		s = labels.Set{MetadataNameLabel: name}
		n.namespaces[name] = s
	}
	return s
}

// Lookup finds an endpoint: namespace/pod, namespace/kind/name (kind in
// any case), or an IP address, which must not be a pod's.
func (n *Network) Lookup(s string) (Endpoint, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		for _, w := range n.Workloads {
			if slices.Contains(w.IPs, ip) {
				return Endpoint{Workload: w}, nil
			}
		}
		return Endpoint{IP: ip.Unmap()}, nil
	}
	parts := strings.Split(s, "/")
	id := s
	switch len(parts) {
	case 2:
	case 3:
		if strings.EqualFold(parts[1], "pod") {
			id = parts[0] + "/" + parts[2]
		} else {
			id = parts[0] + "/" + strings.ToLower(parts[1]) + "/" + parts[2]
		}
	default:
		return Endpoint{}, fmt.Errorf("%q: want namespace/pod, namespace/kind/name or an IP address", s)
	}
	if w, ok := n.byID[id]; ok {
		return Endpoint{Workload: w}, nil
	}
	if _, ok := n.outOfScope[id]; ok {
		return Endpoint{}, fmt.Errorf("%s uses the host network: NetworkPolicy does not govern host-network pods in a defined way, so they are out of scope", s)
	}
	return Endpoint{}, fmt.Errorf("%s: no such pod or workload in the input", s)
}

// Allowed is the ports on which src may open connections to dst: those
// both src's egress and dst's ingress allow. The side of an outside
// address allows everything (NetworkPolicy does not govern it).
func (n *Network) Allowed(src, dst Endpoint) PortSet {
	s := AllPorts()
	if src.Workload != nil {
		s = n.egress(src.Workload, dst)
		if s.Empty() {
			return s
		}
	}
	if dst.Workload != nil {
		s = s.Intersect(n.ingress(src, dst.Workload))
	}
	return s
}

// ingress is the ports on which dst lets src in, through every tier.
func (n *Network) ingress(src Endpoint, dst *Workload) PortSet {
	if n.adminOf == nil {
		return n.npIngress(src, dst)
	}
	return n.decide(dst, true, src, Endpoint{Workload: dst}, func() PortSet { return n.npIngress(src, dst) }, len(n.ingressOf[dst.index]) > 0)
}

// egress is the ports on which src may reach dst, through every tier.
func (n *Network) egress(src *Workload, dst Endpoint) PortSet {
	if n.adminOf == nil {
		return n.npEgress(src, dst)
	}
	return n.decide(src, false, dst, dst, func() PortSet { return n.npEgress(src, dst) }, len(n.egressOf[src.index]) > 0)
}

// npIngress is the ports on which dst's NetworkPolicies let src in.
func (n *Network) npIngress(src Endpoint, dst *Workload) PortSet {
	ps := n.ingressOf[dst.index]
	if len(ps) == 0 {
		return AllPorts()
	}
	var s PortSet
	for _, pi := range ps {
		c := n.policies[pi]
		for i := range c.inRules {
			r := &c.inRules[i]
			if m, _ := n.ruleMatches(c, r, src); m {
				s = s.Union(r.portsTo(Endpoint{Workload: dst}))
				if s.All() {
					return s
				}
			}
		}
	}
	return s
}

// npEgress is the ports on which src's NetworkPolicies let it reach dst.
func (n *Network) npEgress(src *Workload, dst Endpoint) PortSet {
	ps := n.egressOf[src.index]
	if len(ps) == 0 {
		return AllPorts()
	}
	var s PortSet
	for _, pi := range ps {
		c := n.policies[pi]
		for i := range c.outRules {
			r := &c.outRules[i]
			if m, _ := n.ruleMatches(c, r, dst); m {
				s = s.Union(r.portsTo(dst))
				if s.All() {
					return s
				}
			}
		}
	}
	return s
}

// ruleMatches reports whether a rule's peers match e, and whether the match
// is an ipBlock matching a pod's IP (implementation-defined).
func (n *Network) ruleMatches(c *policy, r *rule, e Endpoint) (match, byPodIP bool) {
	if len(r.peers) == 0 {
		return true, false
	}
	for i := range r.peers {
		if m, ip := n.peerMatches(c, &r.peers[i], e); m {
			if !ip {
				return true, false
			}
			byPodIP = true
		}
	}
	return byPodIP, byPodIP
}

func (n *Network) peerMatches(c *policy, p *peer, e Endpoint) (match, byPodIP bool) {
	if p.ipBlock {
		if e.Workload != nil && p.members != nil {
			m := p.members[e.Workload.index/64]&(1<<(e.Workload.index%64)) != 0
			return m, m
		}
		if e.Workload == nil {
			if !e.IP.IsValid() {
				return !p.covered(), false
			}
			return p.contains(e.IP), false
		}
		for _, ip := range e.Workload.IPs {
			if p.contains(ip) {
				return true, true
			}
		}
		return false, false
	}
	w := e.Workload
	if w == nil {
		return false, false
	}
	if p.members != nil {
		return p.members[w.index/64]&(1<<(w.index%64)) != 0, false
	}
	if p.namespaces == nil {
		if w.Namespace != c.Namespace {
			return false, false
		}
	} else if !p.namespaces.Matches(w.nsLabels) {
		return false, false
	}
	return p.pods == nil || p.pods.Matches(labels.Set(w.Labels)), false
}

// covered reports whether the except CIDRs leave nothing of the CIDR.
func (p *peer) covered() bool {
	if len(p.except) == 0 {
		return false
	}
	ex := slices.Clone(p.except)
	slices.SortFunc(ex, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	next := p.cidr.Addr()
	for _, e := range ex {
		if e.Addr().Compare(next) > 0 {
			return false // a gap before e
		}
		if last := lastAddr(e); last.Compare(next) >= 0 {
			if last == lastAddr(p.cidr) {
				return true
			}
			next = last.Next()
		}
	}
	return false
}

// lastAddr is the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (p *peer) contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !p.cidr.Contains(ip) {
		return false
	}
	for _, e := range p.except {
		if e.Contains(ip) {
			return false
		}
	}
	return true
}

// portsTo is the ports a rule allows towards dst: named ports resolve
// against dst's container ports, protocol included, and match nothing
// outside the cluster.
func (r *rule) portsTo(dst Endpoint) PortSet {
	s := r.fixed
	for _, p := range r.named {
		s = s.Union(p.resolve(dst))
	}
	return s
}

func (p portSpec) resolve(dst Endpoint) PortSet {
	switch {
	case p.name != "":
		var s PortSet
		if dst.Workload == nil {
			return s
		}
		for _, cp := range dst.Workload.Ports {
			if cp.Name == p.name && cp.Protocol == p.proto {
				s = s.Union(portsOf(p.proto, cp.Port, cp.Port))
			}
		}
		return s
	case p.lo == 0:
		return protocolPorts(p.proto)
	}
	return portsOf(p.proto, p.lo, p.hi)
}

// index computes, for every peer of every policy, the workloads it
// matches, once: the matrix, exposure and diff ask about every pair, and
// a bit per workload and peer answers each in constant time. Its memory
// is a bit per workload and peer.
func (n *Network) index() {
	if n.indexed {
		return
	}
	n.indexed = true
	words := (len(n.Workloads) + 63) / 64
	for _, c := range n.policies {
		for _, rules := range [][]rule{c.inRules, c.outRules} {
			for i := range rules {
				for j := range rules[i].peers {
					p := &rules[i].peers[j]
					members := make([]uint64, words)
					for _, w := range n.candidates(c, p) {
						if m, _ := n.peerMatches(c, p, Endpoint{Workload: w}); m {
							members[w.index/64] |= 1 << (w.index % 64)
						}
					}
					p.members = members
				}
			}
		}
	}
}

// candidates are the workloads a peer may match: those of the policy's
// namespace for a pod selector alone, else every workload.
func (n *Network) candidates(c *policy, p *peer) []*Workload {
	if !p.ipBlock && p.namespaces == nil {
		return n.byNS[c.Namespace]
	}
	return n.Workloads
}
