package netpol

import (
	"fmt"

	"github.com/kubeguard/kubeguard/internal/object"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The group of the cluster-scoped policies.
const policyGroup = "policy.networking.k8s.io"

func isClusterPolicy(apiVersion, kind string) bool {
	switch apiVersion {
	case policyGroup + "/v1alpha2", policyGroup + "/v1beta1":
		return kind == "ClusterNetworkPolicy"
	case policyGroup + "/v1alpha1":
		return kind == "AdminNetworkPolicy" || kind == "BaselineAdminNetworkPolicy"
	}
	return false
}

// The JSON forms, as far as the analysis reads them (field names of
// sigs.k8s.io/network-policy-api v0.3.0's apis).
type (
	cnpSpec struct {
		Tier     Tier      `json:"tier"`
		Priority int32     `json:"priority"`
		Subject  peerJSON  `json:"subject"`
		Ingress  []cnpRule `json:"ingress"`
		Egress   []cnpRule `json:"egress"`
	}
	cnpRule struct {
		Name      string         `json:"name"`
		Action    string         `json:"action"`
		From      []peerJSON     `json:"from"`
		To        []peerJSON     `json:"to"`
		Protocols []cnpProtocol  `json:"protocols"`
		Ports     *[]anpPortJSON `json:"ports"`
	}
	peerJSON struct {
		Namespaces  *metav1.LabelSelector `json:"namespaces"`
		Pods        *NamespacedPods       `json:"pods"`
		Networks    []string              `json:"networks"`
		Nodes       *metav1.LabelSelector `json:"nodes"`
		DomainNames []string              `json:"domainNames"`
	}
	cnpProtocol struct {
		TCP                  *cnpDest `json:"tcp"`
		UDP                  *cnpDest `json:"udp"`
		SCTP                 *cnpDest `json:"sctp"`
		DestinationNamedPort string   `json:"destinationNamedPort"`
	}
	cnpDest struct {
		DestinationPort *struct {
			Number int32 `json:"number"`
			Range  *struct {
				Start int32 `json:"start"`
				End   int32 `json:"end"`
			} `json:"range"`
		} `json:"destinationPort"`
	}
	anpPortJSON struct {
		PortNumber *struct {
			Protocol string `json:"protocol"`
			Port     int32  `json:"port"`
		} `json:"portNumber"`
		NamedPort *string `json:"namedPort"`
		PortRange *struct {
			Protocol string `json:"protocol"`
			Start    int32  `json:"start"`
			End      int32  `json:"end"`
		} `json:"portRange"`
	}
)

func decodeClusterPolicy(o *object.Object) (*ClusterPolicy, error) {
	var spec cnpSpec
	if err := o.Decode(specPath, &spec); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	p := &ClusterPolicy{Kind: o.Ref.Kind, Name: o.Ref.Name, Tier: spec.Tier, Priority: spec.Priority, Subject: spec.Subject.peer(), Source: o.Source}
	v1alpha1 := o.Ref.APIVersion == policyGroup+"/v1alpha1"
	switch o.Ref.Kind {
	case "AdminNetworkPolicy":
		p.Tier = AdminTier
	case "BaselineAdminNetworkPolicy":
		// A singleton named default, below NetworkPolicy.
		p.Tier = BaselineTier
		if o.Ref.Name != "default" {
			return nil, fmt.Errorf("metadata.name: a BaselineAdminNetworkPolicy must be named default")
		}
	}
	for dir, rules := range map[string][]cnpRule{"ingress": spec.Ingress, "egress": spec.Egress} {
		for i, r := range rules {
			cr, err := r.rule(v1alpha1, dir == "ingress")
			if err != nil {
				return nil, fmt.Errorf("spec.%s[%d]%w", dir, i, err)
			}
			cr.Location, _ = o.Locate(specPath.Key(dir).Index(i))
			if dir == "ingress" {
				p.Ingress = append(p.Ingress, cr)
			} else {
				p.Egress = append(p.Egress, cr)
			}
		}
	}
	return p, nil
}

func (j peerJSON) peer() ClusterPeer {
	return ClusterPeer(j)
}

func (r cnpRule) rule(v1alpha1, ingress bool) (ClusterRule, error) {
	c := ClusterRule{Name: r.Name, Action: Action(r.Action)}
	if v1alpha1 && r.Action == "Allow" {
		c.Action = Accept
	} else if v1alpha1 && r.Action == "Accept" {
		return c, fmt.Errorf(".action: unsupported value \"Accept\" (v1alpha1 says Allow)")
	}
	peers := r.To
	if ingress {
		peers = r.From
	}
	for _, p := range peers {
		c.Peers = append(c.Peers, p.peer())
	}
	if v1alpha1 {
		if r.Ports == nil {
			return c, nil
		}
		c.Ports = []ClusterPort{}
		for i, p := range *r.Ports {
			var cp ClusterPort
			var proto string
			switch {
			case p.PortNumber != nil && p.NamedPort == nil && p.PortRange == nil:
				proto, cp.Lo, cp.Hi = p.PortNumber.Protocol, int(p.PortNumber.Port), int(p.PortNumber.Port)
			case p.NamedPort != nil && p.PortNumber == nil && p.PortRange == nil:
				cp.Name = *p.NamedPort
			case p.PortRange != nil && p.PortNumber == nil && p.NamedPort == nil:
				proto, cp.Lo, cp.Hi = p.PortRange.Protocol, int(p.PortRange.Start), int(p.PortRange.End)
				if cp.Lo >= cp.Hi {
					return c, fmt.Errorf(".ports[%d].portRange: start %d must be below end %d", i, cp.Lo, cp.Hi)
				}
			default:
				return c, fmt.Errorf(".ports[%d]: exactly one of portNumber, namedPort and portRange must be set", i)
			}
			if cp.Name == "" {
				if proto == "" {
					proto = "TCP"
				}
				pr, ok := ParseProtocol(proto)
				if !ok {
					return c, fmt.Errorf(".ports[%d]: unsupported protocol %q", i, proto)
				}
				cp.Protocol = pr
			}
			c.Ports = append(c.Ports, cp)
		}
		return c, nil
	}
	if r.Protocols == nil {
		return c, nil
	}
	c.Ports = []ClusterPort{}
	for i, p := range r.Protocols {
		set := 0
		for _, d := range []struct {
			dest  *cnpDest
			proto Protocol
		}{{p.TCP, TCP}, {p.UDP, UDP}, {p.SCTP, SCTP}} {
			if d.dest == nil {
				continue
			}
			set++
			cp := ClusterPort{Protocol: d.proto}
			if dp := d.dest.DestinationPort; dp != nil {
				switch {
				case dp.Number != 0 && dp.Range == nil:
					cp.Lo, cp.Hi = int(dp.Number), int(dp.Number)
				case dp.Range != nil && dp.Number == 0:
					cp.Lo, cp.Hi = int(dp.Range.Start), int(dp.Range.End)
					if cp.Lo >= cp.Hi {
						return c, fmt.Errorf(".protocols[%d]: range start %d must be below end %d", i, cp.Lo, cp.Hi)
					}
				default:
					return c, fmt.Errorf(".protocols[%d].destinationPort: exactly one of number and range must be set", i)
				}
			}
			c.Ports = append(c.Ports, cp)
		}
		if p.DestinationNamedPort != "" {
			set++
			c.Ports = append(c.Ports, ClusterPort{Name: p.DestinationNamedPort})
		}
		if set != 1 {
			return c, fmt.Errorf(".protocols[%d]: exactly one of tcp, udp, sctp and destinationNamedPort must be set", i)
		}
	}
	return c, nil
}
