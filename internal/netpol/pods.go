package netpol

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/apimachinery/pkg/labels"
)

// Pods summarises the pods and pod templates of an input for the findings
// that relate a policy to the pods it selects (LintPods): per namespace,
// the distinct shapes of pod there are, a shape being a label set, the
// named container ports (name and protocol) and whether the pod uses the
// host network. Names, numbers and everything else of the objects are
// dropped, and equal shapes are kept once, so that its memory grows with
// the distinct label sets of the input (a few per workload), not with the
// number of pods: a thousand replicas of one template, listed live, are
// one shape. It is safe for concurrent use while it is filled; read it
// once filled.
type Pods struct {
	mu     sync.Mutex
	seen   map[string]struct{}
	byNS   map[string][]*PodShape
	shapes int
	// opaque are the namespaces with objects that may make pods the
	// summary cannot see (an operator's custom resource).
	opaque map[string]bool
}

// PodShape is one distinct kind of pod of a namespace.
type PodShape struct {
	Namespace string
	Labels    labels.Set
	// Named are the named ports of its containers, sorted, each once.
	Named       []NamedPort
	HostNetwork bool
}

// NamedPort is a container port's name and protocol: what a policy's named
// port resolves by.
type NamedPort struct {
	Name     string
	Protocol Protocol
}

// NewPods returns an empty summary.
func NewPods() *Pods {
	return &Pods{seen: map[string]struct{}{}, byNS: map[string][]*PodShape{}, opaque: map[string]bool{}}
}

// Add adds the pod template of an object (a Pod, or a workload's template)
// in namespace ns ("" is the default namespace, as for policies). A
// template whose ports the API server would refuse is an error, and is
// left out: the main pass reports it.
func (p *Pods) Add(ns string, t *object.PodTemplate) error {
	s := &PodShape{Namespace: namespaceOf(ns), HostNetwork: t.Spec.HostNetwork}
	ports, err := containerPorts(t.Spec.Containers)
	if err != nil {
		return fmt.Errorf("pod template: %w", err)
	}
	for _, cp := range ports {
		if cp.Name != "" {
			s.Named = append(s.Named, NamedPort{cp.Name, cp.Protocol})
		}
	}
	slices.SortFunc(s.Named, func(a, b NamedPort) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return int(a.Protocol) - int(b.Protocol)
	})
	s.Named = slices.Compact(s.Named)
	key := s.key(t.Metadata.Labels)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.seen[key]; ok {
		return nil
	}
	p.seen[key] = struct{}{}
	s.Labels = maps.Clone(labels.Set(t.Metadata.Labels))
	p.byNS[s.Namespace] = append(p.byNS[s.Namespace], s)
	p.shapes++
	return nil
}

// key is the shape's identity: namespace, labels, ports and host network,
// with separators no name contains.
func (s *PodShape) key(ls map[string]string) string {
	var b strings.Builder
	b.WriteString(s.Namespace)
	b.WriteByte(0)
	if s.HostNetwork {
		b.WriteByte('h')
	}
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(ls[k])
	}
	b.WriteByte(1)
	for _, n := range s.Named {
		b.WriteByte(0)
		b.WriteString(n.Name)
		b.WriteByte('/')
		b.WriteString(n.Protocol.String())
	}
	return b.String()
}

// AddOpaque records that namespace ns ("" is the default namespace) holds
// an object that may make pods whose labels and ports the input does not
// show: a custom resource an operator turns into pods (a Prometheus of
// monitoring.coreos.com makes a StatefulSet). LintPods does not judge a
// policy by the pods of such a namespace.
func (p *Pods) AddOpaque(ns string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opaque[namespaceOf(ns)] = true
}

// MayMakePods reports whether an object of apiVersion may make pods that
// are not in the input: a custom resource, of an API group outside
// Kubernetes' own (the groups without a dot, and those ending in
// .k8s.io). Kubernetes' own kinds that make pods have pod templates.
func MayMakePods(apiVersion string) bool {
	group, _, ok := strings.Cut(apiVersion, "/")
	return ok && strings.Contains(group, ".") && !strings.HasSuffix(group, ".k8s.io")
}

// In returns the shapes of namespace ns ("" is the default namespace), in
// the order first seen.
func (p *Pods) In(ns string) []*PodShape { return p.byNS[namespaceOf(ns)] }

// Namespaces returns the namespaces that have pods, sorted.
func (p *Pods) Namespaces() []string { return slices.Sorted(maps.Keys(p.byNS)) }

// Len is the number of distinct shapes.
func (p *Pods) Len() int { return p.shapes }

// declares reports whether the shape has a container port of that name,
// and whether it has one of that name with another protocol.
func (s *PodShape) declares(name string, proto Protocol) (same, other bool) {
	for _, n := range s.Named {
		if n.Name == name {
			if n.Protocol == proto {
				return true, other
			}
			other = true
		}
	}
	return false, other
}
