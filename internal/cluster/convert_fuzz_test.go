package cluster

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzObject holds the conversion of a listed object to what the server
// sent: whatever the content, the object's spec reads back as the same
// JSON, and nothing panics.
func FuzzObject(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"yes"}},"spec":{"x":[1.5,-0,1e300,true,null,"on","0755",{}]}}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"a":{"b":{"c":[[[]]]}},"k\"ey":"v\u00e9\n"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return
		}
		obj, err := Object(&Item{Resource: Pods, Meta: u, Raw: u.Object})
		if err != nil {
			return // too deep, say: refused, not mangled
		}
		got, err := obj.JSON()
		if err != nil {
			t.Fatalf("JSON of a converted object: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("converted object is not JSON: %v\n%s", err, got)
		}
		want, _ := json.Marshal(u.Object["spec"])
		have, _ := json.Marshal(back["spec"])
		if d := cmp.Diff(string(want), string(have)); d != "" {
			t.Errorf("spec changed (-sent +read):\n%s", d)
		}
	})
}
