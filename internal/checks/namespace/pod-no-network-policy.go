package namespace

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/apimachinery/pkg/labels"
)

// PodNoNetworkPolicy reports pod templates whose labels match the
// podSelector of no NetworkPolicy in their namespace: such pods are not
// isolated in either direction. Selectors are evaluated by apimachinery, as
// the network plugin evaluates them.
//
// It reports only when the input evidently holds the namespace's policies:
// the Namespace object is in the input, or at least one NetworkPolicy of the
// namespace is. Otherwise a scan of one Deployment would report it for
// policies that live in another repository. Objects that name no namespace
// are compared with NetworkPolicies that name none either: applied
// together, they land in the same namespace. Pods on the host network are
// left out: NetworkPolicy does not govern them, and pss-host-namespaces
// reports them.
var PodNoNetworkPolicy = check.Check{
	ID:       "pod-no-network-policy",
	Title:    "Pod selected by no NetworkPolicy",
	Severity: finding.Medium,
	Category: "Network policy",
	Rationale: "The Kubernetes NetworkPolicy documentation explains that a pod is isolated only when some NetworkPolicy selects it; a " +
		"pod that none selects accepts traffic from, and sends traffic to, anything its network can reach. Every workload should be " +
		"selected by a policy, at least a namespace's default-deny policy with an empty podSelector.",
	Remediation: "Select the pods with a NetworkPolicy that allows only what they need, or deny by default in the namespace:\n" +
		"  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: web\n    namespace: my-namespace\n" +
		"  spec:\n    podSelector:\n      matchLabels:\n        app: web\n    policyTypes:\n    - Ingress\n    - Egress\n" +
		"    ingress:\n    - from:\n      - podSelector:\n          matchLabels:\n            app: frontend\n" +
		"      ports:\n      - {protocol: TCP, port: 8080}",
	DocURL: "https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation",
	Kinds:  []string{check.PodTemplates},
	Scope:  check.ScopeInput,
	Needs:  []string{networkPolicyKind, namespaceKind},
	Run: func(p *check.Pass) {
		t := p.Template
		if t.Spec.HostNetwork {
			return
		}
		ns := p.Object.Ref.Namespace
		policies := networkPolicies(p.Context, ns)
		if len(policies) == 0 && declaredNamespace(p.Context, ns) == nil {
			return
		}
		podLabels := labels.Set(t.Metadata.Labels)
		for _, o := range policies {
			if sel, ok := podSelector(o); ok && sel.Matches(podLabels) {
				return
			}
		}
		where := "namespace " + quote(ns)
		if ns == "" {
			where = "the input's objects without a namespace"
		}
		pods := "pods with labels {" + podLabels.String() + "}"
		if len(podLabels) == 0 {
			pods = "pods without labels"
		}
		count := strconv.Itoa(len(policies)) + " policies"
		if len(policies) == 1 {
			count = "1 policy"
		}
		detail := pods + " match no NetworkPolicy's podSelector in " + where + " (" + count + " in the input)"
		if len(policies) == 0 {
			detail = where + " has no NetworkPolicy"
		}
		p.Report(check.Diagnostic{
			Remediation: ownPolicy(p.Object.Ref.Name, ns, t),
			Path:        t.MetadataPath().Key("labels"),
			Reason:      "pods selected by no NetworkPolicy",
			Detail:      detail + ": the pods accept traffic from anywhere and may connect anywhere",
		})
	},
}

// ownPolicy is the fix for the pods of template t: a NetworkPolicy of
// their own, named after their object, that selects them by their own
// labels and admits the pods of their namespace on the ports their
// containers declare (every port when they declare none). What else they
// need is for their owner to add; the policy is where to add it.
func ownPolicy(name, ns string, t *object.PodTemplate) string {
	selector := " {}"
	if len(t.Metadata.Labels) > 0 {
		keys := slices.Sorted(maps.Keys(t.Metadata.Labels))
		lines := make([]string, len(keys))
		for i, k := range keys {
			lines[i] = strconv.Quote(k) + ": " + strconv.Quote(t.Metadata.Labels[k])
		}
		selector = "\n      matchLabels:\n        " + strings.Join(lines, "\n        ")
	}
	var ports []string
	for _, c := range t.Containers() {
		if c.Kind != "containers" {
			continue
		}
		for _, cp := range c.Ports {
			proto := string(cp.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			port := "      - {protocol: " + proto + ", port: " + strconv.Itoa(int(cp.ContainerPort)) + "}"
			if cp.ContainerPort > 0 && !slices.Contains(ports, port) {
				ports = append(ports, port)
			}
		}
	}
	// An object without a namespace is applied with its policy, in the
	// same namespace (kubectl apply -n).
	namespaceLine := ""
	if ns != "" {
		namespaceLine = "    namespace: " + ns + "\n"
	}
	rule := "    - from:\n      - podSelector: {}"
	if len(ports) > 0 {
		rule += "\n      ports:\n" + strings.Join(ports, "\n")
	}
	return "Select the pods with a NetworkPolicy of their own; this one admits only the pods of their namespace, on the ports " +
		"their containers declare: widen it to the clients they serve, and add Egress rules for what they call " +
		"(or deny by default in the namespace, see namespace-default-deny-ingress):\n" +
		"  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: " + name + "\n" + namespaceLine +
		"  spec:\n    podSelector:" + selector + "\n    policyTypes:\n    - Ingress\n    ingress:\n" + rule
}
