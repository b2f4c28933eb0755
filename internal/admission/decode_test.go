package admission

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

var (
	podKind        = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	deploymentKind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)

// decodeSeeds are objects the shortcut takes and objects it must leave to
// the universal deserializer, which alone knows their answer.
var decodeSeeds = []struct {
	data string
	kind schema.GroupVersionKind
}{
	{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x","resources":{"limits":{"cpu":"500m","memory":1e9}},"ports":[{"containerPort":80}]}]}}`, podKind},
	{`{"metadata":{"name":"no-type-meta"},"spec":{"containers":[{"name":"c"}]}}`, podKind},
	{`{"kind":"Pod","metadata":{"name":"kind-only"}}`, podKind},
	{`{"apiVersion":"v1","metadata":{"name":"version-only"}}`, podKind},
	{`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":"http"}}}]}}}}`, deploymentKind},
	{`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`, podKind},
	{`{"apiVersion":"a/b/c","kind":"Pod"}`, podKind},
	{`{"apiVersion":"v2","kind":"Pod"}`, podKind},
	{`{"Kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"case"}}`, podKind},
	{`{"KIND":"Pod","APIVERSION":"v1","metadata":{"name":"upper"}}`, podKind},
	{`{"kind":"Pod","kind":"Deployment","apiVersion":"v1"}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","unknown":{"x":1},"metadata":{"name":"unknown-field"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c","futureField":true}]}}`, podKind},
	{`{"apiVersion":"v1","kind":7}`, podKind},
	{`{"apiVersion":null,"kind":null,"metadata":{"name":"nulls"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"not a list"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"runAsUser":1.5}}}`, podKind},
	{` {"apiVersion":"v1","kind":"Pod"}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"runAsUser":1e2}}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"runAsUser":1.0}}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"runAsUser":-0}}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"securityContext":{"runAsUser":"5"}}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"terminationGracePeriodSeconds":99999999999999999999}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"hostNetwork":"true"}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":null,"memory":"1Gi"}}}]}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","metadata":null,"spec":null}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":null},"annotations":null,"creationTimestamp":null}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"2020-01-01T00:00:00Z","deletionGracePeriodSeconds":null}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\u00e9t\u00e9\ud83d\ude00"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":null}]}]}}`, podKind},
	{"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"bad\xff\"}}", podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"c","livenessProbe":{"httpGet":{"port":8080}},"readinessProbe":{"tcpSocket":{"port":"http"}}}]}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"overhead":{"cpu":"1.5"},"containers":[{"name":"c","resources":{"requests":{"cpu":0.5}}}]}}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod","spec":{"volumes":[{"name":"v","hostPath":{"path":"/"},"emptyDir":{}}]}}`, podKind},
	{`{"apiVersion":"batch/v1","kind":"CronJob","spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}}}}`, schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}},
	{`{"apiVersion":"v1","kind":"Pod"} `, podKind},
	{`"not an object"`, podKind},
	{`[1,2]`, podKind},
	{`7`, podKind},
	{`{}`, podKind},
	{`{"apiVersion":"v1","kind":"Pod"}`, schema.GroupVersionKind{Version: "v1", Kind: "Nope"}},
	{`{"apiVersion":"v1","kind":"Pod"}`, schema.GroupVersionKind{}},
}

// checkDecodersAgree decodes data with the shortcut and with the universal
// deserializer alone and fails when object, kind or error differ.
func checkDecodersAgree(t *testing.T, data []byte, kind schema.GroupVersionKind) {
	t.Helper()
	slow := serializer.NewCodecFactory(scheme).UniversalDeserializer()
	k1, k2 := kind, kind
	got, gotKind, gotErr := decoder.Decode(data, &k1, nil)
	want, wantKind, wantErr := slow.Decode(data, &k2, nil)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: error %v, want %v", data, gotErr, wantErr)
	}
	if diff := cmp.Diff(wantKind, gotKind); diff != "" {
		t.Fatalf("%s: kind (-universal +shortcut):\n%s", data, diff)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: object %#v, want %#v", data, got, want)
	}
}

func TestFastDecoderMatchesUniversalDeserializer(t *testing.T) {
	for _, s := range decodeSeeds {
		checkDecodersAgree(t, []byte(s.data), s.kind)
	}
	// The shortcut is taken where it should be: an object without
	// surprises decodes in one pass.
	var k = podKind
	if _, _, ok := (fastDecoder{}).fast([]byte(decodeSeeds[0].data), k); !ok {
		t.Error("a plain pod did not take the shortcut")
	}
	if _, _, ok := (fastDecoder{}).fast([]byte(`{"Kind":"Pod"}`), k); ok {
		t.Error("an object with a field the typed decode does not know took the shortcut")
	}
}

func FuzzFastDecoder(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s.data), s.kind.Group, s.kind.Version, s.kind.Kind)
	}
	f.Fuzz(func(t *testing.T, data []byte, group, version, kind string) {
		checkDecodersAgree(t, data, schema.GroupVersionKind{Group: group, Version: version, Kind: kind})
	})
}

var _ runtime.Decoder = fastDecoder{}
