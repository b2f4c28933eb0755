package object

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// TestCheckFieldsBounded: aliases that multiply a tree (each level naming
// the one below twice, 2^40 nodes in all) and merge keys that bring a long
// mapping many times are walked within the node budget, not expanded.
func TestCheckFieldsBounded(t *testing.T) {
	// The anchors sit in overhead, a map of quantities whose values the
	// walk does not enter, and are used where it does: the containers.
	var laughs strings.Builder
	laughs.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  overhead:\n    x0: &a0 [{name: c, image: i}]\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&laughs, "    x%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	laughs.WriteString("  containers: *a40\n")

	var merges strings.Builder
	merges.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  overhead:\n    base: &m {name: c, env: [")
	for i := range 5000 {
		fmt.Fprintf(&merges, "{name: E%d, value: x}, ", i)
	}
	merges.WriteString("]}\n  containers:\n")
	for range 5000 {
		merges.WriteString("  - <<: *m\n")
	}

	for name, doc := range map[string]string{"aliases": laughs.String(), "merge keys": merges.String()} {
		t.Run(name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
				t.Fatal(err)
			}
			o, err := New(&root, finding.Location{File: "f.yaml"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- o.CheckFields() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("known fields refused: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("CheckFields still walking after 20s")
			}
		})
	}
}
