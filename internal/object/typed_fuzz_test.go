package object

import (
	"errors"
	"testing"
)

// FuzzCheckTypes feeds arbitrary documents to the type check of built-in
// kinds and of pod templates: it must not panic, and an object it refuses
// is refused with a *FieldError whose field is in the document, at the
// line it says, so that the error points where the fix goes.
func FuzzCheckTypes(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: \"80\"\n",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec:\n  egress: [{ports: [{endPort: x}]}]\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: [1]\n  template:\n    spec:\n      containers: [{name: c, ports: [{containerPort: \"8\"}]}]\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: \"!!\"}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: 1}}\nspec: {containers: [{name: c, resources: {limits: {memory: lots}}}]}\n",
		"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{host: 1}]}\n",
		"apiVersion: example.com/v1\nkind: Widget\nspec: {port: x}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, ok := fuzzObject(data)
		if !ok {
			return
		}
		for _, err := range []error{o.CheckTypes(), func() error { _, err := o.PodTemplate(); return err }()} {
			if err == nil {
				continue
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				continue // a limit, not a type: reported as it is
			}
			if len(fe.Path) > 0 && o.Field(fe.Path) == nil {
				t.Fatalf("error at %s, which the document does not have: %v", fe.Path, err)
			}
			if fe.Location.Line < 1 {
				t.Fatalf("error at line %d: %v", fe.Location.Line, err)
			}
		}
	})
}
