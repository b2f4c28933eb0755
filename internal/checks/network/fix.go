package network

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/object"
	networkingv1 "k8s.io/api/networking/v1"
)

// patch is a finding's remediation: what to do, then the changes written
// as the object's own YAML from its root, for kubectl patch or an edit.
func patch(o *object.Object, what string, changes ...object.Change) string {
	return what + " (its own fields; null removes one; as a strategic merge patch):\n" + o.Patch(changes)
}

// nodeOnlyFields are the fields of a Service spec that only a NodePort or
// LoadBalancer Service may set: a Service made ClusterIP must drop them,
// or the API server refuses it.
var nodeOnlyFields = []string{"externalTrafficPolicy", "healthCheckNodePort", "loadBalancerSourceRanges",
	"allocateLoadBalancerNodePorts", "loadBalancerClass", "loadBalancerIP"}

// toClusterIP are the changes that make a Service ClusterIP: the type,
// and the removal of what the other types alone allow, each port's node
// port included.
func toClusterIP(o *object.Object) []object.Change {
	changes := []object.Change{{Path: specPath.Key("type"), Value: "ClusterIP"}}
	for _, f := range nodeOnlyFields {
		if o.Field(specPath.Key(f)) != nil {
			changes = append(changes, object.Change{Path: specPath.Key(f), Remove: true})
		}
	}
	if ports := o.Field(specPath.Key("ports")); ports != nil {
		for i := range ports.Content {
			if p := specPath.Key("ports").Index(i).Key("nodePort"); o.Field(p) != nil {
				changes = append(changes, object.Change{Path: p, Remove: true})
			}
		}
	}
	return changes
}

// tlsList is spec.tls as the object has it, with entry added: spec.tls has
// no merge key, so a patch replaces it whole.
func tlsList(tls []networkingv1.IngressTLS, entry map[string]any) []any {
	out := make([]any, 0, len(tls)+1)
	for _, t := range tls {
		m := map[string]any{}
		if len(t.Hosts) > 0 {
			m["hosts"] = t.Hosts
		}
		if t.SecretName != "" {
			m["secretName"] = t.SecretName
		}
		out = append(out, m)
	}
	return append(out, entry)
}

// secretFor names the certificate Secret of a host: its name with dashes
// for dots (a wildcard's star dropped), and -tls.
func secretFor(host string) string {
	if host == "" {
		return "default-tls"
	}
	return strings.ReplaceAll(strings.TrimPrefix(host, "*."), ".", "-") + "-tls"
}
