package admission

import (
	"bytes"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/pod-security-admission/api"
)

// fastDecoder decodes a request's object into the type of the request's
// kind in one strict pass of encoding/json/v2 (github.com/go-json-experiment/json,
// the module that mirrors it), and hands everything else to slow, the
// universal deserializer the library is wired with upstream.
//
// The universal deserializer reads apiVersion and kind in a first pass of
// encoding/json (case-insensitive names, last duplicate wins), fills what
// is missing from the request's kind, creates that kind and decodes into
// it with sigs.k8s.io/json (case-sensitive names, unknown fields ignored,
// duplicates: the last wins). On an object with no unknown member, no
// duplicate name and valid UTF-8, which is what the API server sends, the
// first pass can only find the apiVersion and kind that the typed decode
// reads into the object's TypeMeta, and the two decoders build the same
// object. The strict pass refuses every other object, and those, errors
// included, are decoded by slow from the start, which gives its own
// answer. FuzzFastDecoder holds the two paths to each other.
type fastDecoder struct{ slow runtime.Decoder }

func (d fastDecoder) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if into == nil && gvk != nil {
		if obj, actual, ok := d.fast(data, *gvk); ok {
			return obj, actual, nil
		}
	}
	return d.slow.Decode(data, gvk, into)
}

func (d fastDecoder) fast(data []byte, want schema.GroupVersionKind) (runtime.Object, *schema.GroupVersionKind, bool) {
	if b := bytes.TrimLeft(data, " \t\r\n"); len(b) == 0 || b[0] != '{' || want.Kind == "" || want.Version == "" {
		return nil, nil, false
	}
	obj, err := scheme.New(want)
	if err != nil {
		return nil, nil, false
	}
	if err := jsonv2.Unmarshal(data, obj, jsonv2.RejectUnknownMembers(true)); err != nil {
		return nil, nil, false
	}
	tm, ok := obj.GetObjectKind().(*metav1.TypeMeta)
	if !ok {
		return nil, nil, false
	}
	gv, err := schema.ParseGroupVersion(tm.APIVersion)
	if err != nil {
		return nil, nil, false
	}
	actual := withDefaults(schema.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: tm.Kind}, want)
	if actual != want {
		return nil, nil, false
	}
	return obj, &actual, true
}

// withDefaults fills what the object leaves out from the request's kind,
// as the JSON serializer does.
func withDefaults(actual, def schema.GroupVersionKind) schema.GroupVersionKind {
	if actual.Kind == "" {
		actual.Kind = def.Kind
	}
	if actual.Version == "" && actual.Group == "" {
		actual.Group, actual.Version = def.Group, def.Version
	}
	if actual.Version == "" && actual.Group == def.Group {
		actual.Version = def.Version
	}
	return actual
}

// attributes decodes a request's object and old object once each, however
// often Pod Security, the workload denial and the exemptions ask.
type attributes struct {
	api.Attributes
	obj, old func() (runtime.Object, error)
}

func requestAttributes(req *admissionv1.AdmissionRequest) api.Attributes {
	a := api.RequestAttributes(req, decoder)
	return &attributes{Attributes: a, obj: sync.OnceValues(a.GetObject), old: sync.OnceValues(a.GetOldObject)}
}

func (a *attributes) GetObject() (runtime.Object, error)    { return a.obj() }
func (a *attributes) GetOldObject() (runtime.Object, error) { return a.old() }
