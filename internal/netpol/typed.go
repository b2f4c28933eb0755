package netpol

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// PodWorkload makes a workload of a Pod as the API returns it, with its
// addresses.
func PodWorkload(p *corev1.Pod) (*Workload, error) {
	w := &Workload{
		Namespace: namespaceOf(p.Namespace), Kind: "Pod", Name: p.Name,
		Labels: p.Labels, HostNetwork: p.Spec.HostNetwork,
	}
	ports, err := containerPorts(p.Spec.Containers)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", w.Namespace, p.Name, err)
	}
	w.Ports = ports
	addrs := []string{p.Status.PodIP}
	for _, ip := range p.Status.PodIPs {
		addrs = append(addrs, ip.IP)
	}
	w.IPs = parseIPs(addrs)
	return w, nil
}

// PolicyOf makes a Policy of a NetworkPolicy as the API returns it; it has
// no source position.
func PolicyOf(np *networkingv1.NetworkPolicy) *Policy {
	return &Policy{Namespace: namespaceOf(np.Namespace), Name: np.Name, Spec: np.Spec}
}

func containerPorts(cs []corev1.Container) ([]ContainerPort, error) {
	var out []ContainerPort
	for _, c := range cs {
		for _, p := range c.Ports {
			proto := TCP
			if p.Protocol != "" {
				var ok bool
				if proto, ok = ParseProtocol(string(p.Protocol)); !ok {
					return nil, fmt.Errorf("container %s: port %d: unsupported protocol %q", c.Name, p.ContainerPort, p.Protocol)
				}
			}
			out = append(out, ContainerPort{Name: p.Name, Port: int(p.ContainerPort), Protocol: proto})
		}
	}
	return out, nil
}

// parseIPs keeps the valid, distinct addresses.
func parseIPs(addrs []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range addrs {
		if ip, err := netip.ParseAddr(s); err == nil && !contains(out, ip) {
			out = append(out, ip.Unmap())
		}
	}
	return out
}
