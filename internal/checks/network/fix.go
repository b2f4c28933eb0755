package network

import (
	"encoding/json"
	"strings"

	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

// migrated is the ingress-api-removed fix: the Ingress rewritten in
// networking.k8s.io/v1, its own metadata and rules kept. Each backend's
// serviceName and servicePort become service.name and service.port (a
// number or a name), spec.backend becomes spec.defaultBackend, and a path
// without a pathType gets ImplementationSpecific, which is what the
// removed versions gave it. Both removed versions have the shape of
// extensions/v1beta1.
func migrated(o *object.Object) string {
	var old extensionsv1beta1.IngressSpec
	var meta map[string]any
	if o.Decode(specPath, &old) != nil || o.Decode(object.Path{}.Key("metadata"), &meta) != nil {
		return ""
	}
	spec := networkingv1.IngressSpec{IngressClassName: old.IngressClassName, DefaultBackend: backendV1(old.Backend)}
	for _, t := range old.TLS {
		spec.TLS = append(spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
	}
	for _, r := range old.Rules {
		rule := networkingv1.IngressRule{Host: r.Host}
		if r.HTTP != nil {
			rule.HTTP = &networkingv1.HTTPIngressRuleValue{}
			for _, p := range r.HTTP.Paths {
				pt := networkingv1.PathTypeImplementationSpecific
				if p.PathType != nil {
					pt = networkingv1.PathType(*p.PathType)
				}
				rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{Path: p.Path, PathType: &pt, Backend: *backendV1(&p.Backend)})
			}
		}
		spec.Rules = append(spec.Rules, rule)
	}
	// Through JSON, so that what is unset stays out.
	b, err := json.Marshal(spec)
	if err != nil {
		return ""
	}
	var specMap map[string]any
	if json.Unmarshal(b, &specMap) != nil {
		return ""
	}
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if enc.Encode(yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar("apiVersion"), scalar(ingressAPIVersion), scalar("kind"), scalar(ingressKind),
		scalar("metadata"), valueNode(meta), scalar("spec"), valueNode(specMap),
	}}) != nil || enc.Close() != nil {
		return ""
	}
	return "Rewrite the Ingress in networking.k8s.io/v1 (its own rules; a path without a pathType keeps the " +
		"ImplementationSpecific matching it had):\n  " + strings.ReplaceAll(strings.TrimRight(out.String(), "\n"), "\n", "\n  ")
}

// backendV1 is an extensions/v1beta1 backend in networking.k8s.io/v1.
func backendV1(b *extensionsv1beta1.IngressBackend) *networkingv1.IngressBackend {
	if b == nil {
		return nil
	}
	if b.Resource != nil {
		return &networkingv1.IngressBackend{Resource: b.Resource}
	}
	port := networkingv1.ServiceBackendPort{Number: b.ServicePort.IntVal}
	if b.ServicePort.Type == intstr.String {
		port = networkingv1.ServiceBackendPort{Name: b.ServicePort.StrVal}
	}
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: b.ServiceName, Port: port}}
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// valueNode is v as a YAML node, for a mapping written in a set order.
func valueNode(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return &n
}
