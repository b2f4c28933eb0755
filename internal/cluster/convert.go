package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// lastApplied is kubectl apply's copy of the whole manifest. Checks never
// read it, it is often the largest field of an object, and on a Secret it
// holds the Secret's data: it is dropped from every object.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// saNameAnnotation names a legacy token Secret's ServiceAccount: the only
// annotation of a Secret kept.
const saNameAnnotation = "kubernetes.io/service-account.name"

// Object converts a listed item into the object the checks read: its
// content without status, and metadata reduced to name, namespace, labels
// and annotations. A Secret keeps its metadata only (labels and the
// ServiceAccount name annotation), and a type only when it was listed as a
// token Secret; nothing else of a Secret was ever received. Objects have no
// source position: findings on them carry the object reference.
func Object(it *Item) (*object.Object, error) {
	m := it.Meta
	meta := map[string]any{"name": m.GetName()}
	if ns := m.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	labels, annotations := m.GetLabels(), m.GetAnnotations()
	if it.Resource.Kind == Secrets.Kind {
		keep := map[string]string{}
		if v, ok := annotations[saNameAnnotation]; ok {
			keep[saNameAnnotation] = v
		}
		annotations = keep
	} else if _, ok := annotations[lastApplied]; ok {
		annotations = maps.Clone(annotations)
		delete(annotations, lastApplied)
	}
	if len(labels) > 0 {
		meta["labels"] = stringMap(labels)
	}
	if len(annotations) > 0 {
		meta["annotations"] = stringMap(annotations)
	}
	top := map[string]any{"apiVersion": it.Resource.APIVersion(), "kind": it.Resource.Kind, "metadata": meta}
	switch {
	case it.Resource.MetadataOnly:
		if it.Resource.FieldSelector == TokenSecrets.FieldSelector {
			top["type"] = "kubernetes.io/service-account-token"
		}
	default:
		for k, v := range it.Raw {
			switch k {
			case "apiVersion", "kind", "metadata", "status":
			default:
				top[k] = v
			}
		}
	}
	return build(top)
}

// Slim is the part of a workload the RBAC analysis reads: which
// ServiceAccount its pods run as, on which node, and whether they mount the
// token. The RBAC policy keeps every workload; slim ones keep that cheap.
func Slim(it *Item) (*object.Object, error) {
	path := templateSpecPath(it.Resource.Kind)
	top := map[string]any{
		"apiVersion": it.Resource.APIVersion(), "kind": it.Resource.Kind,
		"metadata": map[string]any{"name": it.Meta.GetName(), "namespace": it.Meta.GetNamespace()},
	}
	spec := map[string]any{"containers": []any{}}
	var src any = it.Raw
	for _, k := range path {
		m, _ := src.(map[string]any)
		src = m[k]
	}
	if m, ok := src.(map[string]any); ok {
		for _, k := range []string{"serviceAccountName", "serviceAccount", "nodeName", "automountServiceAccountToken"} {
			if v, ok := m[k]; ok {
				spec[k] = v
			}
		}
	}
	dst := top
	for i, k := range path {
		if i == len(path)-1 {
			dst[k] = spec
			break
		}
		next := map[string]any{}
		dst[k] = next
		dst = next
	}
	return build(top)
}

// templateSpecPath is where a kind's pod spec is.
func templateSpecPath(kind string) []string {
	switch kind {
	case Pods.Kind:
		return []string{"spec"}
	case CronJobs.Kind:
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return []string{"spec", "template", "spec"}
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func build(top map[string]any) (*object.Object, error) {
	n, err := node(top, 0)
	if err != nil {
		return nil, err
	}
	return object.New(n, finding.Location{}, 0)
}

// node turns decoded JSON into the YAML tree objects are made of. Strings
// are double-quoted so that nothing re-resolves them ("yes" stays a
// string); keys are sorted, so that the same object always makes the same
// tree.
func node(v any, depth int) (*yaml.Node, error) {
	if depth > object.MaxDepth {
		return nil, fmt.Errorf("object nests deeper than %d", object.MaxDepth)
	}
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: make([]*yaml.Node, 0, 2*len(v))}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			c, err := node(v[k], depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, str(k), c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: make([]*yaml.Node, 0, len(v))}
		for _, e := range v {
			c, err := node(e, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		return str(v), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(v)), nil
	case int64:
		return scalar("!!int", strconv.FormatInt(v, 10)), nil
	case int:
		return scalar("!!int", strconv.Itoa(v)), nil
	case float64:
		return scalar("!!float", strconv.FormatFloat(v, 'f', -1, 64)), nil
	case nil:
		return scalar("!!null", "null"), nil
	}
	return nil, fmt.Errorf("unexpected %T in object", v)
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s}
}

func scalar(tag, v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v} }

// Controller is the owner reference of the object's managing controller,
// nil when it has none.
func Controller(m metav1.Object) *metav1.OwnerReference {
	return metav1.GetControllerOfNoCopy(m)
}
