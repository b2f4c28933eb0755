package object

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/cputime"
	"github.com/kubeguard/kubeguard/internal/finding"
)

func TestKeySet(t *testing.T) {
	for _, n := range []int{0, 1, 5, keySetPairwise, keySetPairwise + 1, 100} {
		for _, dupAt := range []int{-1, 0, n - 1} {
			var content []*yaml.Node
			for i := range n {
				content = append(content, &yaml.Node{Value: fmt.Sprint("k", i)}, &yaml.Node{})
			}
			if dupAt >= 0 && n > 0 {
				content = append(content, &yaml.Node{Value: fmt.Sprint("k", dupAt)}, &yaml.Node{})
			}
			s := NewKeySet(len(content) / 2)
			var found []int
			for i := 0; i < len(content); i += 2 {
				if s.Seen(content, i) {
					found = append(found, i/2)
				}
			}
			want := dupAt >= 0 && n > 0
			if (len(found) == 1 && found[0] == n) != want || len(found) > 1 {
				t.Errorf("n=%d dup=%d: found %v", n, dupAt, found)
			}
		}
	}
}

// TestDecodeManyKeysIsLinear: decoding a ConfigMap's data of 80,000 keys
// (949 KB) took 8.8 CPU-seconds when duplicate keys were looked for
// pairwise, and a 30 MB document hours. Linear, it takes milliseconds;
// the bound leaves room for a slow, shared machine.
func TestDecodeManyKeysIsLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  labels:\n")
	for i := range 80000 {
		fmt.Fprintf(&b, "    l%d: v\n", i)
	}
	b.WriteString("data:\n")
	for i := range 80000 {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(b.String()), &root); err != nil {
		t.Fatal(err)
	}
	obj, err := New(&root, finding.Location{File: "big.yaml"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	// CPU time, not wall time: the bound must hold on a shared machine.
	start := cputime.Used()
	var data map[string]string
	if err := obj.Decode(Path{}.Key("data"), &data); err != nil || len(data) != 80000 {
		t.Fatalf("decode: %v, %d keys", err, len(data))
	}
	var labels map[string]string
	if err := obj.Decode(Path{}.Keys("metadata", "labels"), &labels); err != nil || len(labels) != 80000 {
		t.Fatalf("decode: %v, %d keys", err, len(labels))
	}
	if d := cputime.Used() - start; d > 3*time.Second {
		t.Errorf("decoding 2 x 80,000 keys took %s of CPU", d)
	}
}
