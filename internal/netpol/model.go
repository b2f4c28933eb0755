package netpol

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// MetadataNameLabel is the label the API server sets on every namespace to
// its name.
const MetadataNameLabel = "kubernetes.io/metadata.name"

// Namespace is a namespace with its labels.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// ContainerPort is a port a pod's container declares.
type ContainerPort struct {
	Name     string
	Port     int
	Protocol Protocol
}

// Workload is a Pod, or a workload standing for the pods of its template.
type Workload struct {
	Namespace string
	// Kind is the object's kind: Pod, Deployment, StatefulSet, ...
	Kind   string
	Name   string
	Labels map[string]string
	// Ports are the ports of the pod's containers.
	Ports []ContainerPort
	// IPs are the pod's addresses when the input gives them (a live Pod's
	// status).
	IPs         []netip.Addr
	HostNetwork bool
	Source      finding.Location

	index    int        // position in Network.Workloads
	nsLabels labels.Set // its namespace's labels
}

// ID names the workload as the commands take it: namespace/name for a Pod,
// namespace/kind/name (kind in lower case) for a workload.
func (w *Workload) ID() string {
	if w.Kind == "Pod" {
		return w.Namespace + "/" + w.Name
	}
	return w.Namespace + "/" + strings.ToLower(w.Kind) + "/" + w.Name
}

// Policy is a networking.k8s.io/v1 NetworkPolicy with where it was read.
type Policy struct {
	Namespace, Name string
	Spec            networkingv1.NetworkPolicySpec
	Source          finding.Location
	// IngressRules and EgressRules are where each rule starts, by index;
	// missing entries are unknown.
	IngressRules, EgressRules []finding.Location
}

// Ref names the policy as namespace/name.
func (p *Policy) Ref() string { return p.Namespace + "/" + p.Name }

// Endpoint is one end of a connection: a workload, or an address outside
// the cluster. Outside (no workload, no IP) stands for some address
// outside the cluster: a rule matches it when it matches any such address.
type Endpoint struct {
	Workload *Workload // nil for an outside address
	IP       netip.Addr
}

// Outside is some address outside the cluster (see Endpoint).
var Outside = Endpoint{}

// OutsideName is how Outside is written.
const OutsideName = "outside"

// String names the endpoint.
func (e Endpoint) String() string {
	switch {
	case e.Workload != nil:
		return e.Workload.ID()
	case !e.IP.IsValid():
		return OutsideName
	}
	return e.IP.String()
}

// ParsePort reads PORT[/PROTOCOL]: a number from 1 to 65535 and TCP, UDP
// or SCTP (any case; TCP when absent).
func ParsePort(s string) (Protocol, int, error) {
	num, proto, hasProto := strings.Cut(s, "/")
	p := TCP
	if hasProto {
		var ok bool
		if p, ok = ParseProtocol(strings.ToUpper(proto)); !ok {
			return 0, 0, fmt.Errorf("port %q: protocol must be TCP, UDP or SCTP", s)
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > maxPort {
		return 0, 0, fmt.Errorf("port %q: want a number from 1 to 65535, then optionally /TCP, /UDP or /SCTP", s)
	}
	return p, n, nil
}

// Isolates says which directions the policy isolates the pods it selects
// in, its policyTypes as the API server defaults them: Ingress always, and
// Egress when the policy has egress rules, unless the types are declared.
func (p *Policy) Isolates() (ingress, egress bool) {
	c, err := compile(p)
	if err != nil {
		return false, false
	}
	return c.ingress, c.egress
}
