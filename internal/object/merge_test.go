package object

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
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
