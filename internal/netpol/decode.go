package netpol

import (
	"fmt"
	"net/netip"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// DefaultNamespace is the namespace of namespaced objects that name none,
// as kubectl applies them without -n.
const DefaultNamespace = "default"

// Decoded is what one object of the input gives the analysis: at most one
// of its fields is set, or Err when the object has the wrong shape.
type Decoded struct {
	Namespace *Namespace
	Workload  *Workload
	Policy    *Policy
	// ClusterPolicy is a ClusterNetworkPolicy, AdminNetworkPolicy or
	// BaselineAdminNetworkPolicy.
	ClusterPolicy *ClusterPolicy
	Err           error
}

var (
	specPath    = object.Path{}.Key("spec")
	ingressPath = specPath.Key("ingress")
	egressPath  = specPath.Key("egress")
	statusPath  = object.Path{}.Key("status")
)

// Decode takes from an object what the analysis needs: a Namespace's
// labels, a NetworkPolicy, or the labels, container ports, addresses and
// host networking of a Pod or of a workload's pod template. Other objects
// give nothing.
func Decode(o *object.Object) Decoded {
	ref := o.Ref
	switch {
	case ref.APIVersion == "v1" && ref.Kind == "Namespace":
		return Decoded{Namespace: &Namespace{Name: ref.Name, Labels: o.Labels}}
	case ref.APIVersion == "networking.k8s.io/v1" && ref.Kind == "NetworkPolicy":
		p := &Policy{Namespace: namespaceOf(ref.Namespace), Name: ref.Name, Source: o.Source}
		if err := o.Decode(specPath, &p.Spec); err != nil {
			return Decoded{Err: fmt.Errorf("NetworkPolicy %s: spec: %w", p.Ref(), err)}
		}
		for i := range p.Spec.Ingress {
			loc, _ := o.Locate(ingressPath.Index(i))
			p.IngressRules = append(p.IngressRules, loc)
		}
		for i := range p.Spec.Egress {
			loc, _ := o.Locate(egressPath.Index(i))
			p.EgressRules = append(p.EgressRules, loc)
		}
		return Decoded{Policy: p}
	case isClusterPolicy(ref.APIVersion, ref.Kind):
		p, err := decodeClusterPolicy(o)
		if err != nil {
			return Decoded{Err: fmt.Errorf("%s %s: %w", ref.Kind, ref.Name, err)}
		}
		return Decoded{ClusterPolicy: p}
	case ref.APIVersion == "v1" && ref.Kind == "PodTemplate":
		return Decoded{} // creates no pod
	}
	t, err := o.PodTemplate()
	if err != nil {
		return Decoded{Err: fmt.Errorf("%s: %w", ref, err)}
	}
	if t == nil {
		return Decoded{}
	}
	w := &Workload{
		Namespace: namespaceOf(ref.Namespace), Kind: ref.Kind, Name: ref.Name,
		Labels: t.Metadata.Labels, HostNetwork: t.Spec.HostNetwork, Source: o.Source,
	}
	ports, err := containerPorts(t.Spec.Containers)
	if err != nil {
		return Decoded{Err: fmt.Errorf("%s: %w", ref, err)}
	}
	w.Ports = ports
	if t.IsPod() {
		var status struct {
			PodIP  string `json:"podIP"`
			PodIPs []struct {
				IP string `json:"ip"`
			} `json:"podIPs"`
		}
		if err := o.Decode(statusPath, &status); err != nil {
			return Decoded{Err: fmt.Errorf("%s: status: %w", ref, err)}
		}
		ips := []string{status.PodIP}
		for _, p := range status.PodIPs {
			ips = append(ips, p.IP)
		}
		w.IPs = parseIPs(ips)
	}
	return Decoded{Workload: w}
}

func contains(ips []netip.Addr, ip netip.Addr) bool {
	for _, x := range ips {
		if x == ip.Unmap() {
			return true
		}
	}
	return false
}

func namespaceOf(ns string) string {
	if ns == "" {
		return DefaultNamespace
	}
	return ns
}

// Input gathers decoded objects in input order.
type Input struct {
	Namespaces []Namespace
	Workloads  []*Workload
	Policies   []*Policy
	// ClusterPolicies are the cluster-scoped policies.
	ClusterPolicies []*ClusterPolicy
}

// Add adds one decoded object.
func (in *Input) Add(d Decoded) {
	switch {
	case d.Namespace != nil:
		in.Namespaces = append(in.Namespaces, *d.Namespace)
	case d.Workload != nil:
		in.Workloads = append(in.Workloads, d.Workload)
	case d.Policy != nil:
		in.Policies = append(in.Policies, d.Policy)
	case d.ClusterPolicy != nil:
		in.ClusterPolicies = append(in.ClusterPolicies, d.ClusterPolicy)
	}
}

// Build indexes what was added (see Build).
func (in *Input) Build() (*Network, []finding.InputError) {
	n, errs := Build(in.Namespaces, in.Workloads, in.Policies)
	return n, append(errs, n.setClusterPolicies(in.ClusterPolicies)...)
}
