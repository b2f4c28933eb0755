package netpol

import (
	"fmt"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Verdict answers whether src may open a connection to dst on one port, and
// why, direction by direction.
type Verdict struct {
	Src, Dst Endpoint
	Protocol Protocol
	Port     int
	Allowed  bool
	// Egress is the source's side, Ingress the destination's.
	Egress, Ingress Side
}

// Side is one direction's part of a verdict.
type Side struct {
	// Governed is false for an address outside the cluster, whose traffic
	// NetworkPolicy does not restrict.
	Governed bool
	// Isolated says a policy selects the pod for this direction; an
	// unisolated pod allows everything.
	Isolated bool
	Allowed  bool
	// By are the rules that allow the connection.
	By []RuleRef
	// Refusals say, for each policy isolating the pod when none allows
	// the connection, why none of its rules does.
	Refusals []Refusal
	// Notes are caveats: an ipBlock matched by a pod IP.
	Notes []string
	// Admin is the decision of the Admin tier of cluster-scoped policies
	// (before NetworkPolicy), Baseline that of the Baseline tier (for
	// pods NetworkPolicy does not isolate); nil when no rule matched.
	Admin, Baseline *TierDecision
}

// TierDecision is the rule of a cluster-scoped policy that decided.
type TierDecision struct {
	Policy   *ClusterPolicy
	Rule     int
	RuleName string
	Action   Action
	Location finding.Location
	// Direction is "ingress" or "egress".
	Direction string
}

// String renders the decision as Kind/name spec.ingress[0] ("name").
func (d *TierDecision) String() string {
	s := fmt.Sprintf("%s spec.%s[%d]", d.Policy.Ref(), d.Direction, d.Rule)
	if d.RuleName != "" {
		s += fmt.Sprintf(" (%q)", d.RuleName)
	}
	return s
}

// RuleRef names one rule of a policy.
type RuleRef struct {
	Policy *Policy
	// Direction is "ingress" or "egress".
	Direction string
	Index     int
	Location  finding.Location
}

// String renders the rule as NAMESPACE/NAME spec.ingress[0].
func (r RuleRef) String() string {
	return fmt.Sprintf("%s spec.%s[%d]", r.Policy.Ref(), r.Direction, r.Index)
}

// Refusal is why a policy does not allow a connection.
type Refusal struct {
	Policy *Policy
	// Reasons has a line per rule, or one saying the policy has none.
	Reasons []string
}

const podIPNote = "an ipBlock matched the pod's IP address: whether ipBlock applies to pod traffic is implementation-defined (the upstream e2e suite expects it to)"

// Explain answers whether src may connect to dst on port/proto and explains
// the answer.
func (n *Network) Explain(src, dst Endpoint, proto Protocol, port int) Verdict {
	v := Verdict{Src: src, Dst: dst, Protocol: proto, Port: port}
	v.Egress.Allowed, v.Ingress.Allowed = true, true
	if src.Workload != nil {
		v.Egress = n.explainTiers(src.Workload, n.egressOf[src.Workload.index], "egress", src, dst, proto, port)
	}
	if dst.Workload != nil {
		v.Ingress = n.explainTiers(dst.Workload, n.ingressOf[dst.Workload.index], "ingress", src, dst, proto, port)
	}
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v
}

// explainTiers explains one direction through the Admin tier, NetworkPolicy
// and the Baseline tier.
func (n *Network) explainTiers(subject *Workload, ps []int32, dir string, src, dst Endpoint, proto Protocol, port int) Side {
	var ap, bp []*clusterPolicy
	if n.adminOf != nil {
		ap, bp = n.adminOf[subject.index], n.baselineOf[subject.index]
	}
	ingress := dir == "ingress"
	peer := dst
	if ingress {
		peer = src
	}
	admin := firstDecision(ap, dir, peer, dst, proto, port)
	if admin != nil && admin.Action != Pass {
		return Side{Governed: true, Isolated: len(ps) > 0, Allowed: admin.Action == Accept, Admin: admin}
	}
	s := n.explainSide(ps, dir, src, dst, proto, port)
	s.Admin = admin
	if s.Isolated {
		return s
	}
	if s.Baseline = firstDecision(bp, dir, peer, dst, proto, port); s.Baseline != nil && s.Baseline.Action != Pass {
		s.Allowed = s.Baseline.Action == Accept
	}
	return s
}

// firstDecision is the first rule of a tier's policies, in evaluation
// order, that matches the peer and the port.
func firstDecision(ps []*clusterPolicy, dir string, peer, dst Endpoint, proto Protocol, port int) *TierDecision {
	for _, c := range ps {
		rules := c.outs
		if dir == "ingress" {
			rules = c.inRules
		}
		for i := range rules {
			r := &rules[i]
			if m, _ := r.matches(peer); m && r.portsTo(dst).Has(proto, port) {
				return &TierDecision{Policy: c.ClusterPolicy, Rule: r.index, RuleName: r.Name, Action: r.Action, Location: r.Location, Direction: dir}
			}
		}
	}
	return nil
}

func (n *Network) explainSide(ps []int32, dir string, src, dst Endpoint, proto Protocol, port int) Side {
	s := Side{Governed: true, Isolated: len(ps) > 0}
	if !s.Isolated {
		s.Allowed = true
		return s
	}
	peerName, peer := dst.String(), dst
	if dir == "ingress" {
		peerName, peer = src.String(), src
	}
	var refusals []Refusal
	podIP := false
	for _, pi := range ps {
		c := n.policies[pi]
		rules := c.inRules
		if dir == "egress" {
			rules = c.outRules
		}
		ref := Refusal{Policy: c.Policy}
		if len(rules) == 0 {
			ref.Reasons = append(ref.Reasons, fmt.Sprintf("it has no %s rules: it denies all %s", dir, dir))
		}
		for i := range rules {
			r := &rules[i]
			at := ""
			if r.loc.File != "" {
				at = " (" + r.loc.String() + ")"
			}
			m, byIP := n.ruleMatches(c, r, peer)
			if !m {
				ref.Reasons = append(ref.Reasons, fmt.Sprintf("spec.%s[%d]%s: no peer matches %s", dir, i, at, peerName))
				continue
			}
			ports := r.portsTo(dst)
			if !ports.Has(proto, port) {
				ref.Reasons = append(ref.Reasons, fmt.Sprintf("spec.%s[%d]%s: matches %s but allows only ports %s%s", dir, i, at, peerName, ports, namedNote(r, dst)))
				continue
			}
			s.By = append(s.By, RuleRef{Policy: c.Policy, Direction: dir, Index: i, Location: r.loc})
			podIP = podIP || byIP
		}
		refusals = append(refusals, ref)
	}
	s.Allowed = len(s.By) > 0
	if !s.Allowed {
		s.Refusals = refusals
	}
	if podIP {
		s.Notes = append(s.Notes, podIPNote)
	}
	return s
}

// namedNote explains named ports that resolve to nothing at dst.
func namedNote(r *rule, dst Endpoint) string {
	for _, p := range r.ports {
		if p.name != "" && p.resolve(dst).Empty() {
			if dst.Workload == nil {
				return fmt.Sprintf(" (named port %s means nothing outside the cluster)", p)
			}
			return fmt.Sprintf(" (named port %s: %s declares no container port of that name and protocol)", p, dst)
		}
	}
	return ""
}
