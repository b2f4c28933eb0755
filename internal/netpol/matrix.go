package netpol

import (
	"k8s.io/apimachinery/pkg/labels"
	"net/netip"
	"slices"
	"strings"
)

// Endpoints are the rows and columns of a matrix: every workload, then
// Outside.
func (n *Network) Endpoints() []Endpoint {
	es := make([]Endpoint, 0, len(n.Workloads)+1)
	for _, w := range n.Workloads {
		es = append(es, Endpoint{Workload: w})
	}
	return append(es, Outside)
}

// Matrix calls fn for every ordered pair of Endpoints (Outside to Outside
// excepted) with the ports on which the first may open connections to the
// second, row by row. Nothing of the matrix is kept: memory stays that of
// the network.
func (n *Network) Matrix(fn func(from, to int, ports PortSet)) {
	n.index()
	es := n.Endpoints()
	for i, src := range es {
		for j, dst := range es {
			if src.Workload == nil && dst.Workload == nil {
				continue
			}
			fn(i, j, n.Allowed(src, dst))
		}
	}
}

// Exposure is what one workload accepts and sends beyond its neighbours.
type Exposure struct {
	Workload *Workload
	// FromAnyNamespace is the ports on which every pod of every namespace,
	// whatever its labels, may connect to the workload.
	FromAnyNamespace PortSet
	// FromAnyOutside is the ports on which any address outside the
	// cluster may connect; FromSomeOutside, some address.
	FromAnyOutside, FromSomeOutside PortSet
	// ToSomeOutside is the ports on which it may connect to some address
	// outside the cluster.
	ToSomeOutside PortSet
	// ToMetadata is the ports on which it may connect to the cloud
	// metadata address, 169.254.169.254.
	ToMetadata PortSet
}

// MetadataAddress is the link-local address of the cloud providers'
// instance metadata services, which hand out credentials.
var MetadataAddress = netip.MustParseAddr("169.254.169.254")

// Exposures computes every workload's exposure, in workload order.
func (n *Network) Exposures() []Exposure {
	n.index()
	out := make([]Exposure, 0, len(n.Workloads))
	for _, w := range n.Workloads {
		e := Exposure{Workload: w}
		e.FromAnyNamespace = n.fromEveryPod(w)
		e.FromSomeOutside = n.ingress(Outside, w)
		e.FromAnyOutside = n.fromEveryAddress(w)
		e.ToSomeOutside = n.egress(w, Outside)
		e.ToMetadata = n.egress(w, Endpoint{IP: MetadataAddress})
		out = append(out, e)
	}
	return out
}

// fromEveryPod is the ports on which dst's ingress admits any pod of any
// namespace: those of rules with a peer whose selectors select
// everything (or no peer at all).
func (n *Network) fromEveryPod(dst *Workload) PortSet {
	ps := n.ingressOf[dst.index]
	if len(ps) == 0 {
		return AllPorts()
	}
	var s PortSet
	for _, pi := range ps {
		c := n.policies[pi]
		for i := range c.inRules {
			r := &c.inRules[i]
			if r.everyPod() {
				s = s.Union(r.portsTo(Endpoint{Workload: dst}))
			}
		}
	}
	return s
}

// everyPod reports whether a rule's peers select every pod of every
// namespace.
func (r *rule) everyPod() bool {
	if len(r.peers) == 0 {
		return true
	}
	for _, p := range r.peers {
		if !p.ipBlock && p.namespaces != nil && p.namespaces.Empty() && (p.pods == nil || p.pods.Empty()) {
			return true
		}
	}
	return false
}

// fromEveryAddress is the ports on which dst's ingress admits every
// address outside the cluster: rules without peers, or with an ipBlock of
// a whole address family without except (IPv4 and IPv6 both needed).
func (n *Network) fromEveryAddress(dst *Workload) PortSet {
	ps := n.ingressOf[dst.index]
	if len(ps) == 0 {
		return AllPorts()
	}
	var s, v4, v6 PortSet
	for _, pi := range ps {
		c := n.policies[pi]
		for i := range c.inRules {
			r := &c.inRules[i]
			ports := r.portsTo(Endpoint{Workload: dst})
			if len(r.peers) == 0 {
				s = s.Union(ports)
				continue
			}
			for _, p := range r.peers {
				if p.ipBlock && p.cidr.Bits() == 0 && len(p.except) == 0 {
					if p.cidr.Addr().Is4() {
						v4 = v4.Union(ports)
					} else {
						v6 = v6.Union(ports)
					}
				}
			}
		}
	}
	return s.Union(v4.Intersect(v6))
}

// Change is a connection a change of input adds or removes.
type Change struct {
	From, To string
	Added    PortSet
	Removed  PortSet
}

// Diff compares two networks endpoint by endpoint (workloads by ID, and
// Outside): the ports newly allowed and no longer allowed for each ordered
// pair. A workload present on one side only has no connections on the
// other. Changes come ordered by From, then To.
func Diff(old, new *Network) []Change {
	old.index()
	new.index()
	ids := map[string]bool{}
	for _, w := range old.Workloads {
		ids[w.ID()] = true
	}
	for _, w := range new.Workloads {
		ids[w.ID()] = true
	}
	names := make([]string, 0, len(ids)+1)
	for id := range ids {
		names = append(names, id)
	}
	slices.SortFunc(names, strings.Compare)
	names = append(names, OutsideName)
	endpoint := func(n *Network, id string) (Endpoint, bool) {
		if id == OutsideName {
			return Outside, true
		}
		w, ok := n.byID[id]
		return Endpoint{Workload: w}, ok
	}
	allowed := func(n *Network, from, to string) PortSet {
		s, ok1 := endpoint(n, from)
		d, ok2 := endpoint(n, to)
		if !ok1 || !ok2 {
			return PortSet{}
		}
		return n.Allowed(s, d)
	}
	var out []Change
	for _, from := range names {
		for _, to := range names {
			if from == OutsideName && to == OutsideName {
				continue
			}
			a, b := allowed(old, from, to), allowed(new, from, to)
			if a.Equal(b) {
				continue
			}
			out = append(out, Change{From: from, To: to, Added: b.Minus(a), Removed: a.Minus(b)})
		}
	}
	return out
}

// Idle are the valid NetworkPolicies whose podSelector selects no
// workload of the input: a typo in a label, or pods that are gone. The
// input may not hold every pod (a scan of one repository): the caller
// says so.
func (n *Network) Idle() []*Policy {
	used := make([]bool, len(n.policies))
	for _, lists := range [][][]int32{n.ingressOf, n.egressOf} {
		for _, ps := range lists {
			for _, i := range ps {
				used[i] = true
			}
		}
	}
	var out []*Policy
	for i, c := range n.policies {
		if !used[i] && !c.selectsAnyIn(n.byNS[c.Namespace]) {
			out = append(out, c.Policy)
		}
	}
	return out
}

// selectsAnyIn reports whether the policy selects one of ws, whatever its
// types (a policy of no type selects pods it does not isolate).
func (c *policy) selectsAnyIn(ws []*Workload) bool {
	for _, w := range ws {
		if c.selector.Matches(labels.Set(w.Labels)) {
			return true
		}
	}
	return false
}
