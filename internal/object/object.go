// Package object holds a decoded Kubernetes object together with the YAML
// tree it came from, so that checks can read typed fields and report where
// in the source each field is.
package object

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
)

// Object is one Kubernetes object read from the input.
type Object struct {
	Ref         finding.ObjectRef
	Labels      map[string]string
	Annotations map[string]string
	// Source is where the object's document starts.
	Source finding.Location

	root   *yaml.Node // the object's mapping node
	offset int        // lines before the parsed document in its file
}

// Limits bound the work one document may cause.
type Limits struct {
	// MaxNodes bounds the nodes visited when converting a document, aliases
	// counted at every use.
	MaxNodes int
}

// DefaultLimits fit any real manifest with a wide margin.
var DefaultLimits = Limits{MaxNodes: 1 << 20}

// header is the part of every object decoded eagerly.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

// New makes an Object of a parsed document's root mapping. src names the
// file (and Helm template); offset is the number of lines in the file before
// the parsed text, so that node lines become file lines. It fails when the
// node is not a mapping or lacks apiVersion or kind.
func New(root *yaml.Node, src finding.Location, offset int) (*Object, error) {
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a Kubernetes object: the document is a %s, not a mapping", describe(root))
	}
	src.Line, src.Column = offset+root.Line, root.Column
	o := &Object{root: root, Source: src, offset: offset}
	var h header
	if !h.fromNodes(root) {
		if hn := o.headerNode(); o.decode(hn, &h) != nil {
			// At the field, in the API's terms: labels: "x" is "must be
			// an object, not a string" at metadata.labels, not Go's
			// unmarshalling message at the document's first line.
			return nil, o.fieldError(hn, reflect.TypeFor[header](), nil)
		}
	}
	switch {
	case h.APIVersion == "" && h.Kind == "":
		return nil, fmt.Errorf("not a Kubernetes object: apiVersion and kind are not set")
	case h.APIVersion == "":
		return nil, fmt.Errorf("%s object has no apiVersion", h.Kind)
	case h.Kind == "":
		return nil, fmt.Errorf("object with apiVersion %s has no kind", h.APIVersion)
	}
	o.Ref = finding.ObjectRef{APIVersion: h.APIVersion, Kind: h.Kind, Namespace: h.Metadata.Namespace, Name: h.Metadata.Name}
	o.Labels, o.Annotations = h.Metadata.Labels, h.Metadata.Annotations
	return o, nil
}

// headerNode is a mapping of just apiVersion, kind and metadata, so that the
// header decodes without converting the whole object.
func (o *Object) headerNode() *yaml.Node {
	h := &yaml.Node{Kind: yaml.MappingNode, Line: o.root.Line, Column: o.root.Column}
	for i := 0; i+1 < len(o.root.Content); i += 2 {
		switch o.root.Content[i].Value {
		case "apiVersion", "kind", "metadata", "<<":
			h.Content = append(h.Content, o.root.Content[i], o.root.Content[i+1])
		}
	}
	return h
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "mapping"
}

// Field returns the node at p, following aliases, or nil.
func (o *Object) Field(p Path) *yaml.Node {
	n, rest := o.walk(p)
	if len(rest) > 0 {
		return nil
	}
	return n
}

// Decode converts the subtree at p into v with Kubernetes' JSON semantics
// (case-sensitive field names). A missing subtree leaves v untouched.
func (o *Object) Decode(p Path, v any) error {
	n := o.Field(p)
	if n == nil {
		return nil
	}
	return o.decode(n, v)
}

func (o *Object) decode(n *yaml.Node, v any) error {
	if decodeTree(n, v) {
		return nil
	}
	err := withJSON(n, func(b []byte) error {
		if err := kjson.UnmarshalCaseSensitivePreserveInts(b, v); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		return nil
	})
	if se, ok := err.(*ScalarError); ok {
		// Lines in the file, as the object's own locations are.
		se.Line += o.offset
	}
	return err
}

// JSON returns the whole object as JSON, as kubectl would send it.
func (o *Object) JSON() ([]byte, error) {
	e := encoder{budget: DefaultLimits.MaxNodes}
	if err := e.node(o.root); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Locate returns the source position of the field at p. When the field is
// absent it returns the position of its deepest present ancestor and
// exact=false: that is where a missing field must be added.
func (o *Object) Locate(p Path) (loc finding.Location, exact bool) {
	n, rest := o.walkKey(p)
	return o.at(n), len(rest) == 0
}

// at is where node n of the object is written.
func (o *Object) at(n *yaml.Node) finding.Location {
	loc := o.Source
	loc.Line, loc.Column = o.offset+n.Line, n.Column
	return loc
}

// walk follows p as far as it exists and returns the last node reached and
// the part of p not found.
func (o *Object) walk(p Path) (*yaml.Node, Path) {
	n := o.root
	for i, e := range p {
		c := child(n, e)
		if c == nil {
			return n, p[i:]
		}
		n = c
	}
	return n, nil
}

// walkKey is walk, but for a map entry it answers the key's node: the line
// a reader looks for is the one that names the field.
func (o *Object) walkKey(p Path) (*yaml.Node, Path) {
	n, key := o.root, o.root
	for i, e := range p {
		n = deref(n)
		var c *yaml.Node
		if e.Key != "" {
			var k *yaml.Node
			k, c = entry(n, e.Key)
			if c != nil {
				key = k
			}
		} else if n.Kind == yaml.SequenceNode && e.Index >= 0 && e.Index < len(n.Content) {
			c = n.Content[e.Index]
			key = deref(c)
		}
		if c == nil {
			return key, p[i:]
		}
		n = c
	}
	return key, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func child(n *yaml.Node, e Elem) *yaml.Node {
	n = deref(n)
	if e.Key != "" {
		_, v := entry(n, e.Key)
		if v == nil {
			return nil
		}
		return deref(v)
	}
	if n.Kind != yaml.SequenceNode || e.Index < 0 || e.Index >= len(n.Content) {
		return nil
	}
	return deref(n.Content[e.Index])
}

// entry finds key in a mapping as the document is decoded (the JSON
// encoder, held to sigs.k8s.io/yaml): pairs in document order, a merge key
// ("<<") standing for the merged mappings' pairs at its place (of a list
// of mappings, the earlier ones last), the last occurrence winning. So a
// key written before a merge that also has it is overridden, and one
// written after it overrides: the line found is the one that counts.
func entry(n *yaml.Node, key string) (k, v *yaml.Node) {
	return entryAt(n, key, 0)
}

func entryAt(n *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if n.Kind != yaml.MappingNode || depth > MaxDepth {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		c := n.Content[i]
		if isMerge(c) {
			if mk, mv := mergedEntry(n.Content[i+1], key, depth+1); mv != nil {
				k, v = mk, mv
			}
			continue
		}
		if c.Kind == yaml.ScalarNode && c.Value == key {
			k, v = c, n.Content[i+1]
		}
	}
	return k, v
}

// mergedEntry finds key in the value of a merge key.
func mergedEntry(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	m = deref(m)
	if m.Kind != yaml.SequenceNode {
		return entryAt(m, key, depth)
	}
	for i := len(m.Content) - 1; i >= 0; i-- {
		if ck, cv := entryAt(deref(m.Content[i]), key, depth); cv != nil {
			k, v = ck, cv
		}
	}
	return k, v
}

// PodTemplate is the pod an object creates or describes.
type PodTemplate struct {
	// Path is where the template sits: empty for a Pod, spec.template for
	// a Deployment, spec.jobTemplate.spec.template for a CronJob.
	Path     Path
	Metadata metav1.ObjectMeta
	Spec     corev1.PodSpec

	// containers is Containers' list, built once: every check of the
	// template asks for it.
	containersOnce sync.Once
	containers     []Container
	// specPath and metadataPath are set by Object.PodTemplate, so that the
	// paths every check and finding starts from are built once.
	specPath, metadataPath Path
}

// IsPod reports whether the template is a Pod itself, which Pod Security
// Admission enforces, rather than a workload's template, which it only
// warns about and audits.
func (t *PodTemplate) IsPod() bool { return len(t.Path) == 0 }

// MetadataPath is the path of the template's metadata.
func (t *PodTemplate) MetadataPath() Path {
	if t.metadataPath != nil {
		return t.metadataPath
	}
	return t.Path.Key("metadata")
}

// SpecPath is the path of the template's pod spec.
func (t *PodTemplate) SpecPath() Path {
	if t.specPath != nil {
		return t.specPath
	}
	return t.Path.Key("spec")
}

var (
	templatePath    = Path{}.Keys("spec", "template")
	jobTemplatePath = Path{}.Keys("spec", "jobTemplate", "spec", "template")
	podTemplatePath = Path{}.Key("template")

	// shapes are the places a pod template of a kind not known by name is
	// looked for, each with the path of its pod spec.
	shapes = []struct{ template, spec Path }{
		{templatePath, templatePath.Key("spec")},
		{jobTemplatePath, jobTemplatePath.Key("spec")},
	}
)

// TemplatePath says where the pod template of an object of this kind is, and
// whether the kind has one. Pods are their own template. Kinds not known to
// Kubernetes (Argo Rollouts, Knative and the like) are recognised by shape:
// a spec.template or spec.jobTemplate.spec.template holding a pod spec.
func (o *Object) TemplatePath() (Path, bool) {
	if o.Ref.APIVersion == "v1" {
		switch o.Ref.Kind {
		case "Pod":
			return Path{}, true
		case "PodTemplate":
			return podTemplatePath, true
		case "Namespace", "Service", "ServiceAccount", "Secret", "ConfigMap", "List":
			return nil, false
		}
	}
	for _, s := range shapes {
		if t := o.Field(s.spec); t != nil && t.Kind == yaml.MappingNode {
			if _, c := entry(t, "containers"); c != nil {
				return s.template, true
			}
		}
	}
	return nil, false
}

// PodTemplate decodes the object's pod template, with the API server's
// defaults for security-relevant fields applied; nil when it has none.
func (o *Object) PodTemplate() (*PodTemplate, error) {
	p, ok := o.TemplatePath()
	if !ok {
		return nil, nil
	}
	t := &PodTemplate{Path: p, specPath: p.Key("spec"), metadataPath: p.Key("metadata")}
	// A value of the wrong type is located at its own field: the API
	// server refuses the object for it.
	if err := o.Decode(t.MetadataPath(), &t.Metadata); err != nil {
		return nil, o.fieldError(o.Field(t.MetadataPath()), reflect.TypeFor[metav1.ObjectMeta](), t.MetadataPath())
	}
	if err := o.Decode(t.SpecPath(), &t.Spec); err != nil {
		return nil, o.fieldError(o.Field(t.SpecPath()), reflect.TypeFor[corev1.PodSpec](), t.SpecPath())
	}
	applyDefaults(t)
	return t, nil
}

// Container is one container of a pod template with its path.
type Container struct {
	*corev1.Container
	Path Path
	// Kind is "containers", "initContainers" or "ephemeralContainers".
	Kind string
}

// Containers lists every container of the template in the order the
// Pod Security checks visit them: init containers, containers, ephemeral
// containers. The list is shared by every caller: do not modify it.
func (t *PodTemplate) Containers() []Container {
	t.containersOnce.Do(func() { t.containers = t.listContainers() })
	return t.containers
}

func (t *PodTemplate) listContainers() []Container {
	out := make([]Container, 0, len(t.Spec.InitContainers)+len(t.Spec.Containers)+len(t.Spec.EphemeralContainers))
	spec := t.SpecPath()
	for i := range t.Spec.InitContainers {
		out = append(out, Container{&t.Spec.InitContainers[i], spec.keyIndex("initContainers", i), "initContainers"})
	}
	for i := range t.Spec.Containers {
		out = append(out, Container{&t.Spec.Containers[i], spec.keyIndex("containers", i), "containers"})
	}
	for i := range t.Spec.EphemeralContainers {
		c := (*corev1.Container)(&t.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		out = append(out, Container{c, spec.keyIndex("ephemeralContainers", i), "ephemeralContainers"})
	}
	return out
}
