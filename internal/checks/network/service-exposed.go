package network

import (
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	corev1 "k8s.io/api/core/v1"
)

// sourceRangesAnnotation is the annotation form of
// spec.loadBalancerSourceRanges, which the Service documentation lists as
// equivalent (the field wins when both are set).
const sourceRangesAnnotation = "service.beta.kubernetes.io/load-balancer-source-ranges"

// ServiceExposed reports Services that accept connections from outside the
// cluster: every NodePort Service, and every LoadBalancer Service whose
// clients are not restricted by spec.loadBalancerSourceRanges or its
// annotation. A LoadBalancer restricted to source ranges has made its
// exposure explicit and is left alone. An internal load balancer (a cloud
// annotation) is still reported: it is reachable from the whole network
// the cluster sits in, which is the decision the finding asks to record.
var ServiceExposed = check.Check{
	ID:       "service-exposed",
	Title:    "Service exposed outside the cluster",
	Severity: finding.Medium,
	Category: "Network exposure",
	Rationale: "The Kubernetes Service documentation explains that a NodePort Service opens its port on every node of the cluster " +
		"and a LoadBalancer Service asks the cloud for a load balancer reachable from outside, with a node port on every node " +
		"as well unless spec.allocateLoadBalancerNodePorts is false. Either bypasses the Ingress layer where TLS, authentication " +
		"and rate limits usually live, and NetworkPolicies, which match pods and namespaces, may not apply to traffic that " +
		"arrives through a node. Expose workloads through a ClusterIP Service behind an Ingress or Gateway, and restrict a load " +
		"balancer that must exist to the clients that need it.",
	Remediation: "Use a ClusterIP Service and route to it from an Ingress or Gateway:\n" +
		"  spec:\n    type: ClusterIP\n" +
		"or, when a load balancer is needed, restrict its clients (and drop node ports where the load balancer allows):\n" +
		"  spec:\n    type: LoadBalancer\n    loadBalancerSourceRanges:\n    - <client CIDR>\n" +
		"    allocateLoadBalancerNodePorts: false",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
	Kinds:  []string{serviceKind},
	Run: func(p *check.Pass) {
		spec, ok := serviceSpec(p.Object)
		if !ok {
			return
		}
		name := quote(p.Object.Ref.Name)
		fix := patch(p.Object, "Make the Service ClusterIP and route to it from an Ingress or Gateway", toClusterIP(p.Object)...) +
			"\nor, when a load balancer is needed, restrict its clients to the addresses that need it (and drop node ports where the load balancer allows):\n" +
			"  spec:\n    type: LoadBalancer\n    loadBalancerSourceRanges:\n    - <client CIDR>\n    allocateLoadBalancerNodePorts: false"
		switch spec.Type {
		case corev1.ServiceTypeNodePort:
			p.Report(check.Diagnostic{
				Path:        specPath.Key("type"),
				Reason:      "NodePort Service",
				Remediation: fix,
				Detail:      "Service " + name + " is of type NodePort: " + nodePorts(spec.Ports) + " every node of the cluster",
			})
		case corev1.ServiceTypeLoadBalancer:
			if len(spec.LoadBalancerSourceRanges) > 0 || strings.TrimSpace(p.Object.Annotations[sourceRangesAnnotation]) != "" {
				return
			}
			p.Report(check.Diagnostic{
				Path:        specPath.Key("type"),
				Reason:      "LoadBalancer Service open to any client",
				Remediation: fix,
				Detail: "Service " + name + " is of type LoadBalancer and sets no loadBalancerSourceRanges: the load balancer " +
					"accepts connections from any address that can reach it, the internet for a public one",
			})
		}
	},
}

// nodePorts says which ports a NodePort Service opens.
func nodePorts(ports []corev1.ServicePort) string {
	var fixed []string
	for _, sp := range ports {
		if sp.NodePort != 0 {
			fixed = append(fixed, strconv.Itoa(int(sp.NodePort)))
		}
	}
	switch {
	case len(ports) == 1 && len(fixed) == 1:
		return "port " + fixed[0] + " is open on"
	case len(fixed) == len(ports) && len(fixed) > 0:
		return "ports " + strings.Join(fixed, ", ") + " are open on"
	case len(ports) == 1:
		return "a port allocated from the node port range is open on"
	}
	return "ports allocated from the node port range are open on"
}
