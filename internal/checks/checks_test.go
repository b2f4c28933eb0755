package checks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
)

var update = flag.Bool("update", false, "rewrite docs/checks.md")

func TestRegistry(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 19 {
		t.Fatalf("got %d checks, want at least the 19 Pod Security checks", len(all))
	}
	if err := check.Validate(all); err != nil {
		t.Fatal(err)
	}
}

// TestDocsUpToDate fails when docs/checks.md differs from what the checks'
// metadata generates; run `go test ./internal/checks -update` to rewrite it.
func TestDocsUpToDate(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, all); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "checks.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/checks -update)", err)
	}
	if diff := cmp.Diff(buf.String(), string(got)); diff != "" {
		t.Errorf("docs/checks.md is stale; run go test ./internal/checks -update (-want +got):\n%s", diff)
	}
}
