package namespace

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
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
		// The example selects these pods by their own labels.
		selector := "matchLabels: {}"
		if len(podLabels) > 0 {
			keys := slices.Sorted(maps.Keys(podLabels))
			lines := make([]string, len(keys))
			for i, k := range keys {
				lines[i] = strconv.Quote(k) + ": " + strconv.Quote(podLabels[k])
			}
			selector = "matchLabels:\n        " + strings.Join(lines, "\n        ")
		}
		p.Report(check.Diagnostic{
			Names: []string{"name: web", "name: " + p.Object.Ref.Name, "my-namespace", orDefault(ns),
				"matchLabels:\n        app: web", selector},
			Path:   t.MetadataPath().Key("labels"),
			Reason: "pods selected by no NetworkPolicy",
			Detail: detail + ": the pods accept traffic from anywhere and may connect anywhere",
		})
	},
}

// orDefault is the namespace an object without one lands in, when applied
// without -n.
func orDefault(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}
