package object

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// TestMergeKeyLocations: a field reached through a merge key ("<<") is
// located where its effective value is written, as sigs.k8s.io/yaml (what
// kubectl sends) decodes it, never on a line that value overrode.
func TestMergeKeyLocations(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		line      int // of privileged's effective value
	}{
		{"own key after the merge overrides it",
			"apiVersion: v1\nkind: Pod\nx: &on {privileged: false}\nsecurityContext:\n  <<: *on\n  privileged: true\n", 6},
		{"merge after the own key overrides it",
			"apiVersion: v1\nkind: Pod\nx: &on\n  privileged: true\nsecurityContext:\n  privileged: false\n  <<: *on\n", 4},
		{"earlier mapping of a merged list wins",
			"apiVersion: v1\nkind: Pod\na: &a\n  privileged: true\nb: &b\n  privileged: false\nsecurityContext:\n  <<: [*a, *b]\n", 4},
		{"nested merge",
			"apiVersion: v1\nkind: Pod\na: &a\n  privileged: true\nb: &b\n  <<: *a\nsecurityContext:\n  <<: *b\n", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &root); err != nil {
				t.Fatal(err)
			}
			o, err := New(&root, finding.Location{File: "f.yaml"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := Path{}.Keys("securityContext", "privileged")
			loc, exact := o.Locate(p)
			if !exact || loc.Line != tt.line {
				t.Errorf("privileged located at line %d (exact %v), want %d", loc.Line, exact, tt.line)
			}
			// The value found there is the one kubectl would send.
			var sent struct {
				SecurityContext struct{ Privileged bool } `json:"securityContext"`
			}
			j, err := sigsyaml.YAMLToJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(j, &sent); err != nil {
				t.Fatal(err)
			}
			if got := o.Field(p); got == nil || (got.Value == "true") != sent.SecurityContext.Privileged {
				t.Errorf("field %v, kubectl sends privileged=%v", got, sent.SecurityContext.Privileged)
			}
		})
	}
}

// TestOverriddenValuesAreDropped: a key written twice in a mapping, or
// written beside a merge key that also has it, takes the last value whole,
// as sigs.k8s.io/yaml (what kubectl sends) decodes it. Decoding the
// overridden value too would merge its fields into the winner's: a stale
// runAsNonRoot or hostNetwork the API server never sees, or a type error
// in a value it never reads.
func TestOverriddenValuesAreDropped(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"duplicate key",
			"apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: true\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: a, image: x}]\nspec:\n  containers: [{name: b, image: nginx}]\n"},
		{"own key after a merge",
			"apiVersion: v1\nkind: Pod\nx: &x\n  securityContext: {runAsNonRoot: true, runAsUser: 1000}\nspec:\n  <<: *x\n  securityContext: {runAsUser: 0}\n  containers: [{name: a, image: x}]\n"},
		{"merge after the own key",
			"apiVersion: v1\nkind: Pod\nx: &x\n  securityContext: {runAsUser: 0}\nspec:\n  securityContext: {runAsNonRoot: true}\n  <<: *x\n  containers: [{name: a, image: x}]\n"},
		{"earlier mapping of a merged list wins",
			"apiVersion: v1\nkind: Pod\na: &a {securityContext: {runAsUser: 0}}\nb: &b {securityContext: {runAsNonRoot: true}}\nspec:\n  <<: [*a, *b]\n  containers: [{name: a, image: x}]\n"},
		{"nested maps",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: x}\n  labels: {b: z}\nspec:\n  containers: [{name: a, image: x}]\n"},
		{"wrong type in the overridden value",
			"apiVersion: v1\nkind: Pod\nspec:\n  priority: high\n  priority: 3\n  containers: [{name: a, image: x}]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(tt.doc), &root); err != nil {
				t.Fatal(err)
			}
			o, err := New(&root, finding.Location{File: "f.yaml"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got corev1.Pod
			if err := o.Decode(Path{}, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			j, err := sigsyaml.YAMLToJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			var sent corev1.Pod
			if err := json.Unmarshal(j, &sent); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sent, got); diff != "" {
				t.Errorf("decoded pod differs from what kubectl sends (-kubectl +kubeguard):\n%s", diff)
			}
			if _, err := o.PodTemplate(); err != nil {
				t.Errorf("pod template: %v", err)
			}
		})
	}
}

// TestCheckTypesOverriddenValue: a wrong type in a value a later key
// overrides is not an error, since the API server never receives it
// (found by FuzzCheckTypes).
func TestCheckTypesOverriddenValue(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 00A\nspec:\n  replicas: 2\n"
	o := parseObject(t, doc)
	if err := o.CheckTypes(); err != nil {
		t.Errorf("CheckTypes: %v", err)
	}
}

// TestCheckTypesNamesTheKeptValue: when the value a key keeps has the
// wrong type, the error names its field, not one of a value it overrode.
func TestCheckTypesNamesTheKeptValue(t *testing.T) {
	doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: x\nspec:\n  minReadySeconds: y\n"
	o := parseObject(t, doc)
	var fe *FieldError
	if err := o.CheckTypes(); !errors.As(err, &fe) {
		t.Fatalf("CheckTypes: %v, want a *FieldError", err)
	}
	if got := fe.Path.String(); got != "spec.minReadySeconds" || fe.Location.Line != 7 {
		t.Errorf("error at %s, line %d; want spec.minReadySeconds, line 7", got, fe.Location.Line)
	}
}
