package netpol

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kubeguard/kubeguard/internal/finding"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Tier is where a cluster-scoped policy sits around NetworkPolicy: the
// Admin tier is evaluated before it, the Baseline tier after it, and only
// for pods no NetworkPolicy isolates.
type Tier string

// The tiers of sigs.k8s.io/network-policy-api.
const (
	AdminTier    Tier = "Admin"
	BaselineTier Tier = "Baseline"
)

// Action is what a cluster-scoped rule does with the traffic it matches.
type Action string

// The actions. AdminNetworkPolicy's Allow is Accept.
const (
	Accept Action = "Accept"
	Deny   Action = "Deny"
	Pass   Action = "Pass"
)

// ClusterPolicy is a cluster-scoped policy of sigs.k8s.io/network-policy-api:
// a ClusterNetworkPolicy (v1alpha2, v1beta1) or an AdminNetworkPolicy or
// BaselineAdminNetworkPolicy (v1alpha1), brought to one form.
type ClusterPolicy struct {
	// Kind is the object's kind, for messages.
	Kind     string
	Name     string
	Tier     Tier
	Priority int32
	Subject  ClusterPeer // Namespaces or Pods
	Ingress  []ClusterRule
	Egress   []ClusterRule
	Source   finding.Location
}

// Ref names the policy as Kind/name.
func (p *ClusterPolicy) Ref() string { return p.Kind + "/" + p.Name }

// ClusterRule is one rule: the first rule of the tier, in priority then
// rule order, that matches a connection decides it.
type ClusterRule struct {
	Name   string
	Action Action
	Peers  []ClusterPeer
	// Ports are the rule's ports; nil means every port.
	Ports    []ClusterPort
	Location finding.Location
}

// ClusterPeer selects endpoints: exactly one field is set.
type ClusterPeer struct {
	// Namespaces selects every pod of the namespaces it selects.
	Namespaces *metav1.LabelSelector
	// Pods selects pods by namespace and pod labels both.
	Pods *NamespacedPods
	// Networks are CIDRs: addresses outside the cluster, and pods by
	// address when the input gives pod addresses.
	Networks []string
	// Nodes and DomainNames (experimental) select nothing kubeguard can
	// see: nodes' addresses and DNS names are not in manifests.
	Nodes       *metav1.LabelSelector
	DomainNames []string
}

// NamespacedPods selects pods by their namespace's labels and their own.
type NamespacedPods struct {
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`
	PodSelector       metav1.LabelSelector `json:"podSelector"`
}

// ClusterPort is one port of a rule.
type ClusterPort struct {
	Protocol Protocol
	// Lo and Hi are the port range; 0, 0 for every port of the protocol.
	Lo, Hi int
	// Name is a destination named port (any protocol the container port
	// has).
	Name string
}

// clusterPolicy is a ClusterPolicy ready to evaluate.
type clusterPolicy struct {
	*ClusterPolicy
	subject       clusterSel
	inRules, outs []clusterRule
}

type clusterSel struct {
	namespaces, pods labels.Selector // pods nil: every pod of the namespaces
}

type clusterRule struct {
	ClusterRule
	index    int
	sels     []clusterSel
	networks []netip.Prefix
	// opaque counts peers (nodes, domain names) that may match what the
	// input cannot show.
	opaque int
	fixed  PortSet
	named  []string
}

func compileCluster(p *ClusterPolicy) (*clusterPolicy, error) {
	c := &clusterPolicy{ClusterPolicy: p}
	switch p.Tier {
	case AdminTier, BaselineTier:
	default:
		return nil, fmt.Errorf("spec.tier: unsupported value %q (want Admin or Baseline)", p.Tier)
	}
	if p.Priority < 0 || p.Priority > 1000 {
		return nil, fmt.Errorf("spec.priority: %d must be between 0 and 1000", p.Priority)
	}
	sel, err := compileClusterSel(&p.Subject)
	if err != nil {
		return nil, fmt.Errorf("spec.subject%w", err)
	}
	if sel == nil {
		return nil, fmt.Errorf("spec.subject: must select namespaces or pods")
	}
	c.subject = *sel
	for dir, rules := range map[string][]ClusterRule{"ingress": p.Ingress, "egress": p.Egress} {
		if len(rules) > 25 {
			return nil, fmt.Errorf("spec.%s: %d rules, at most 25 allowed", dir, len(rules))
		}
		for i, r := range rules {
			cr, err := compileClusterRule(i, r, dir)
			if err != nil {
				return nil, fmt.Errorf("spec.%s[%d]%w", dir, i, err)
			}
			if dir == "ingress" {
				c.inRules = append(c.inRules, cr)
			} else {
				c.outs = append(c.outs, cr)
			}
		}
	}
	slices.SortFunc(c.inRules, func(a, b clusterRule) int { return a.index - b.index })
	slices.SortFunc(c.outs, func(a, b clusterRule) int { return a.index - b.index })
	return c, nil
}

func compileClusterSel(p *ClusterPeer) (*clusterSel, error) {
	switch {
	case p.Namespaces != nil:
		s, err := selector(p.Namespaces)
		if err != nil {
			return nil, fmt.Errorf(".namespaces: %w", err)
		}
		return &clusterSel{namespaces: s}, nil
	case p.Pods != nil:
		ns, err := selector(&p.Pods.NamespaceSelector)
		if err != nil {
			return nil, fmt.Errorf(".pods.namespaceSelector: %w", err)
		}
		pods, err := selector(&p.Pods.PodSelector)
		if err != nil {
			return nil, fmt.Errorf(".pods.podSelector: %w", err)
		}
		return &clusterSel{namespaces: ns, pods: pods}, nil
	}
	return nil, nil
}

func compileClusterRule(i int, r ClusterRule, dir string) (clusterRule, error) {
	c := clusterRule{ClusterRule: r, index: i}
	switch r.Action {
	case Accept, Deny, Pass:
	default:
		return c, fmt.Errorf(".action: unsupported value %q", r.Action)
	}
	field := "from"
	if dir == "egress" {
		field = "to"
	}
	if len(r.Peers) == 0 {
		return c, fmt.Errorf(".%s: must have at least one peer", field)
	}
	for j := range r.Peers {
		p := &r.Peers[j]
		set := 0
		for _, b := range []bool{p.Namespaces != nil, p.Pods != nil, p.Networks != nil, p.Nodes != nil, p.DomainNames != nil} {
			if b {
				set++
			}
		}
		if set != 1 {
			return c, fmt.Errorf(".%s[%d]: exactly one of namespaces, pods, networks, nodes or domainNames must be set", field, j)
		}
		if dir == "ingress" && (p.Networks != nil || p.Nodes != nil || p.DomainNames != nil) {
			return c, fmt.Errorf(".%s[%d]: ingress peers select namespaces or pods only", field, j)
		}
		sel, err := compileClusterSel(p)
		if err != nil {
			return c, fmt.Errorf(".%s[%d]%w", field, j, err)
		}
		if sel != nil {
			c.sels = append(c.sels, *sel)
		}
		for k, n := range p.Networks {
			pr, err := parseCIDR(n)
			if err != nil {
				return c, fmt.Errorf(".%s[%d].networks[%d]: %w", field, j, k, err)
			}
			c.networks = append(c.networks, pr)
		}
		if p.Nodes != nil || p.DomainNames != nil {
			c.opaque++
		}
	}
	if r.Ports == nil {
		c.fixed = AllPorts()
	}
	for _, p := range r.Ports {
		switch {
		case p.Name != "":
			c.named = append(c.named, p.Name)
		case p.Lo == 0:
			c.fixed = c.fixed.Union(protocolPorts(p.Protocol))
		default:
			if p.Lo < 1 || p.Hi > maxPort || p.Lo > p.Hi {
				return c, fmt.Errorf(": port range %d-%d is not within 1-65535 with start before end", p.Lo, p.Hi)
			}
			c.fixed = c.fixed.Union(portsOf(p.Protocol, p.Lo, p.Hi))
		}
	}
	return c, nil
}

// selects reports whether a selector selects a workload.
func (s *clusterSel) selects(w *Workload) bool {
	return s.namespaces.Matches(w.nsLabels) && (s.pods == nil || s.pods.Matches(labels.Set(w.Labels)))
}

// matches reports whether a rule's peers match e, and whether through a
// network matching a pod's address.
func (r *clusterRule) matches(e Endpoint) (match, byPodIP bool) {
	if e.Workload != nil {
		for i := range r.sels {
			if r.sels[i].selects(e.Workload) {
				return true, false
			}
		}
		for _, n := range r.networks {
			for _, ip := range e.Workload.IPs {
				if n.Contains(ip) {
					return true, true
				}
			}
		}
		return false, false
	}
	for _, n := range r.networks {
		if !e.IP.IsValid() || n.Contains(e.IP.Unmap()) {
			return true, false
		}
	}
	return false, false
}

// portsTo is what the rule's ports match towards dst: a named port is
// resolved against dst's container ports, whatever their protocol.
func (r *clusterRule) portsTo(dst Endpoint) PortSet {
	s := r.fixed
	if dst.Workload == nil {
		return s
	}
	for _, name := range r.named {
		for _, cp := range dst.Workload.Ports {
			if cp.Name == name {
				s = s.Union(portsOf(cp.Protocol, cp.Port, cp.Port))
			}
		}
	}
	return s
}

// tierPolicies lists, per workload, the cluster policies of a tier whose
// subject selects it, in evaluation order: priority, then name (the API
// leaves equal priorities to the implementation).
func sortClusterPolicies(ps []*clusterPolicy) {
	slices.SortStableFunc(ps, func(a, b *clusterPolicy) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Name, b.Name))
	})
}

// tierResult is what one tier decides about a set of ports.
type tierResult struct {
	accepted, denied PortSet
	// rest are the ports the tier leaves to the next: passed or matched
	// by no rule.
	rest PortSet
}

// evalTier runs the rules of a tier's policies, in order, over the ports
// still undecided.
func evalTier(ps []*clusterPolicy, ingress bool, peer, dst Endpoint, ports PortSet) tierResult {
	res := tierResult{}
	undecided := ports
	var passed PortSet
	for _, c := range ps {
		rules := c.outs
		if ingress {
			rules = c.inRules
		}
		for i := range rules {
			if undecided.Empty() {
				break
			}
			r := &rules[i]
			if m, _ := r.matches(peer); !m {
				continue
			}
			hit := undecided.Intersect(r.portsTo(dst))
			if hit.Empty() {
				continue
			}
			switch r.Action {
			case Accept:
				res.accepted = res.accepted.Union(hit)
			case Deny:
				res.denied = res.denied.Union(hit)
			case Pass:
				passed = passed.Union(hit)
			}
			undecided = undecided.Minus(hit)
		}
	}
	res.rest = undecided.Union(passed)
	return res
}

// decide is the ports allowed in one direction through every tier: the
// Admin tier, then NetworkPolicy (np, when the pod is isolated), then the
// Baseline tier, then the default, which allows.
func (n *Network) decide(subject *Workload, ingress bool, peer, dst Endpoint, np func() PortSet, isolated bool) PortSet {
	admin, baseline := n.adminOf, n.baselineOf
	var ap, bp []*clusterPolicy
	if admin != nil {
		ap = admin[subject.index]
	}
	if baseline != nil {
		bp = baseline[subject.index]
	}
	if len(ap) == 0 && len(bp) == 0 {
		return np()
	}
	a := evalTier(ap, ingress, peer, dst, AllPorts())
	allowed := a.accepted
	if a.rest.Empty() {
		return allowed
	}
	if isolated {
		return allowed.Union(a.rest.Intersect(np()))
	}
	b := evalTier(bp, ingress, peer, dst, a.rest)
	return allowed.Union(b.accepted).Union(b.rest)
}
