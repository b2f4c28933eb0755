package object

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
	kjson "sigs.k8s.io/json"
)

// FuzzCheckFieldsMatchesStrict holds CheckFields to the strict decoding
// the API server does under kubectl's default field validation:
// kjson.UnmarshalStrict of the object's JSON into its API type. Where that
// decodes, CheckFields refuses exactly the objects it finds an unknown
// field in, and names one of those fields, at a line of the document.
func FuzzCheckFieldsMatchesStrict(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n    requests: {cpu: 1}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, securityContext: {runAsNonroot: true}}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, securityContext: {x: 1}, securityContext: {}}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - <<: {name: c, imagepullPolicy: Always}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: &m {name: p, labelz: {}}\nspec: {containers: [{<<: *m, name: c}]}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, creationTimestamp: null}\ndata: {Spec: x}\nspec: {}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, nodeport: 30080}]}\n",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {podSelector: {}, ingress: [{from: [{namespaceSelectors: {}}]}]}\n",
		"apiVersion: example.com/v1\nkind: Widget\nspec: {anything: x}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
			return
		}
		o, err := New(&doc, finding.Location{File: "f.yaml"}, 0)
		if err != nil {
			return
		}
		typ, ok := apiTypeOf(o.Ref.APIVersion, o.Ref.Kind)
		if !ok {
			if o.CheckFields() != nil {
				t.Fatalf("%s is not built in, yet refused: %v", o.Ref, o.CheckFields())
			}
			return
		}
		js, err := o.JSON()
		if err != nil {
			return
		}
		strict, err := kjson.UnmarshalStrict(js, reflect.New(typ).Interface())
		if err != nil {
			return // a type error: CheckTypes' to report, and it stops decoding
		}
		mine := o.CheckFields()
		if (mine == nil) != (len(strict) == 0) {
			t.Fatalf("CheckFields says %v; strict decoding says %v\n%s", mine, strict, js)
		}
		if mine == nil {
			return
		}
		fe := mine.(*FieldError)
		if fe.Location.Line < 1 {
			t.Fatalf("error at line %d: %v", fe.Location.Line, mine)
		}
		plain := true
		for _, e := range fe.Path {
			plain = plain && (e.Key == "" || plainKey(e.Key))
		}
		if !plain {
			return // strict decoding writes odd keys its own way
		}
		for _, s := range strict {
			if strings.Contains(s.Error(), `"`+fe.Path.String()+`"`) {
				return
			}
		}
		t.Fatalf("CheckFields names %s; strict decoding names %v", fe.Path, strict)
	})
}
