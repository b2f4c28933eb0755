package rbac

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// parse reads a YAML stream into objects named as file test.yaml.
func parse(t testing.TB, yaml string) []*object.Object {
	t.Helper()
	var out []*object.Object
	for _, d := range manifest.Split([]byte(yaml)) {
		objs, errs := manifest.Parse("test.yaml", d)
		if len(errs) > 0 {
			t.Fatalf("parse: %v", errs)
		}
		out = append(out, objs...)
	}
	return out
}

// build makes a policy of a YAML stream.
func build(t testing.TB, yaml string) *Policy {
	t.Helper()
	var b Builder
	for _, o := range parse(t, yaml) {
		b.Add(o)
	}
	return b.Build()
}
