package netpol

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// policy is a Policy made ready to evaluate.
type policy struct {
	*Policy
	selector          labels.Selector
	ingress, egress   bool // the policy types
	inRules, outRules []rule
}

// rule is one ingress or egress rule.
type rule struct {
	index int
	loc   finding.Location
	// peers are the rule's from or to; none means every endpoint.
	peers []peer
	// ports are the rule's ports; none means every port.
	ports []portSpec
	// fixed is what the ports without a name allow (every port when there
	// are no ports), named the named ones, resolved per destination.
	fixed PortSet
	named []portSpec
}

// peer is one NetworkPolicyPeer.
type peer struct {
	// pods and namespaces are the selectors; nil when absent.
	pods, namespaces labels.Selector
	ipBlock          bool
	cidr             netip.Prefix
	except           []netip.Prefix
	// members, once the network is indexed for many questions, has a bit
	// per workload (by index) that the peer matches.
	members []uint64
}

// portSpec is one NetworkPolicyPort.
type portSpec struct {
	proto  Protocol
	lo, hi int    // 0, 0 for every port of the protocol
	name   string // a named port, resolved per destination
}

// compile validates a policy as the API server does (the checks that bear
// on its meaning) and prepares it. The error names the field.
func compile(p *Policy) (*policy, error) {
	c := &policy{Policy: p}
	sel, err := selector(&p.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("spec.podSelector: %w", err)
	}
	c.selector = sel
	if len(p.Spec.PolicyTypes) == 0 {
		c.ingress, c.egress = true, len(p.Spec.Egress) > 0
	}
	for i, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			c.ingress = true
		case networkingv1.PolicyTypeEgress:
			c.egress = true
		default:
			return nil, fmt.Errorf("spec.policyTypes[%d]: unsupported value %q (want Ingress or Egress)", i, t)
		}
	}
	for i, r := range p.Spec.Ingress {
		cr, err := compileRule(i, r.From, r.Ports, "from")
		if err != nil {
			return nil, fmt.Errorf("spec.ingress[%d].%w", i, err)
		}
		if i < len(p.IngressRules) {
			cr.loc = p.IngressRules[i]
		}
		c.inRules = append(c.inRules, cr)
	}
	for i, r := range p.Spec.Egress {
		cr, err := compileRule(i, r.To, r.Ports, "to")
		if err != nil {
			return nil, fmt.Errorf("spec.egress[%d].%w", i, err)
		}
		if i < len(p.EgressRules) {
			cr.loc = p.EgressRules[i]
		}
		c.outRules = append(c.outRules, cr)
	}
	return c, nil
}

func selector(ls *metav1.LabelSelector) (labels.Selector, error) {
	s, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector: %w", err)
	}
	return s, nil
}

func compileRule(index int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, field string) (rule, error) {
	r := rule{index: index}
	for i, p := range peers {
		cp, err := compilePeer(&p)
		if err != nil {
			return r, fmt.Errorf("%s[%d]%w", field, i, err)
		}
		r.peers = append(r.peers, cp)
	}
	for i, p := range ports {
		cp, err := compilePort(&p)
		if err != nil {
			return r, fmt.Errorf("ports[%d]%w", i, err)
		}
		r.ports = append(r.ports, cp)
		if cp.name != "" {
			r.named = append(r.named, cp)
		} else {
			r.fixed = r.fixed.Union(cp.resolve(Outside))
		}
	}
	if len(r.ports) == 0 {
		r.fixed = AllPorts()
	}
	return r, nil
}

func compilePeer(p *networkingv1.NetworkPolicyPeer) (peer, error) {
	var c peer
	n := 0
	if p.PodSelector != nil {
		n++
		s, err := selector(p.PodSelector)
		if err != nil {
			return c, fmt.Errorf(".podSelector: %w", err)
		}
		c.pods = s
	}
	if p.NamespaceSelector != nil {
		n++
		s, err := selector(p.NamespaceSelector)
		if err != nil {
			return c, fmt.Errorf(".namespaceSelector: %w", err)
		}
		c.namespaces = s
	}
	if p.IPBlock != nil {
		n++
		if n > 1 {
			return c, fmt.Errorf(": may not specify both ipBlock and another peer")
		}
		c.ipBlock = true
		cidr, err := parseCIDR(p.IPBlock.CIDR)
		if err != nil {
			return c, fmt.Errorf(".ipBlock.cidr: %w", err)
		}
		c.cidr = cidr
		for i, e := range p.IPBlock.Except {
			ex, err := parseCIDR(e)
			if err != nil {
				return c, fmt.Errorf(".ipBlock.except[%d]: %w", i, err)
			}
			if ex.Addr().Is4() != cidr.Addr().Is4() || ex.Bits() <= cidr.Bits() || !cidr.Contains(ex.Addr()) {
				return c, fmt.Errorf(".ipBlock.except[%d]: %q must be a strict subset of cidr %q", i, e, p.IPBlock.CIDR)
			}
			c.except = append(c.except, ex)
		}
	}
	if n == 0 {
		return c, fmt.Errorf(": must specify a peer (podSelector, namespaceSelector or ipBlock)")
	}
	return c, nil
}

func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("invalid CIDR %q", s)
	}
	return p.Masked(), nil
}

func compilePort(p *networkingv1.NetworkPolicyPort) (portSpec, error) {
	c := portSpec{proto: TCP}
	if p.Protocol != nil {
		proto, ok := ParseProtocol(string(*p.Protocol))
		if !ok {
			return c, fmt.Errorf(".protocol: unsupported value %q (want TCP, UDP or SCTP)", *p.Protocol)
		}
		c.proto = proto
	}
	if p.Port == nil {
		if p.EndPort != nil {
			return c, fmt.Errorf(".endPort: may not be specified when port is not specified")
		}
		return c, nil
	}
	if p.Port.Type == intstr.String {
		if err := validPortName(p.Port.StrVal); err != nil {
			return c, fmt.Errorf(".port: %w", err)
		}
		if p.EndPort != nil {
			return c, fmt.Errorf(".endPort: may not be specified when port is a named port")
		}
		c.name = p.Port.StrVal
		return c, nil
	}
	c.lo = int(p.Port.IntVal)
	if c.lo < 1 || c.lo > maxPort {
		return c, fmt.Errorf(".port: %d must be between 1 and 65535", c.lo)
	}
	c.hi = c.lo
	if p.EndPort != nil {
		c.hi = int(*p.EndPort)
		if c.hi < c.lo {
			return c, fmt.Errorf(".endPort: %d must be greater than or equal to port %d", c.hi, c.lo)
		}
		if c.hi > maxPort {
			return c, fmt.Errorf(".endPort: %d must be between 1 and 65535", c.hi)
		}
	}
	return c, nil
}

// validPortName checks an IANA service name, as the API server does for
// named ports: 1-15 lower-case letters, digits and '-', at least one
// letter, no '-' at either end nor two in a row.
func validPortName(s string) error {
	bad := len(s) == 0 || len(s) > 15 || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") || strings.Contains(s, "--")
	letter := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			letter = true
		case r >= '0' && r <= '9', r == '-':
		default:
			bad = true
		}
	}
	if bad || !letter {
		return fmt.Errorf("%q is neither a port number nor a valid port name (IANA_SVC_NAME)", s)
	}
	return nil
}

// String renders the port as a policy writes it.
func (p portSpec) String() string {
	switch {
	case p.name != "":
		return p.proto.String() + ":" + p.name
	case p.lo == 0:
		return p.proto.String() + ":all"
	case p.lo == p.hi:
		return fmt.Sprintf("%s:%d", p.proto, p.lo)
	}
	return fmt.Sprintf("%s:%d-%d", p.proto, p.lo, p.hi)
}
