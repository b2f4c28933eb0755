package checks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/audit"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/node"
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

// TestOneFilePerCheck holds the catalogue to its layout: every check other
// than the Pod Security adapter's lives in a file named after its ID, with
// both fixtures beside it. The checks about kubeguard's own configuration
// live with the code that reports them (package suppress) and are tested
// there.
func TestOneFilePerCheck(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if strings.HasPrefix(c.ID, "pss-") || c.Category == "kubeguard configuration" {
			continue
		}
		pattern, testdata := filepath.Join("*", c.ID+".go"), "testdata"
		if c.Scope == check.ScopeRBAC {
			// Beside the analysis that finds them.
			pattern, testdata = filepath.Join("..", "rbac", c.ID+".go"), filepath.Join("testdata", "checks")
		}
		files, _ := filepath.Glob(pattern)
		if len(files) != 1 {
			t.Errorf("check %s: want one file %s, found %v", c.ID, pattern, files)
			continue
		}
		dir := filepath.Dir(files[0])
		for _, fx := range []string{c.ID + ".yaml", c.ID + "_ok.yaml"} {
			if _, err := os.Stat(filepath.Join(dir, testdata, fx)); err != nil {
				t.Errorf("check %s: fixture %v", c.ID, err)
			}
		}
	}
}

// TestCatalogue holds the catalogue to every front's checks: the object
// checks, the audit checks and the node checks, each once.
func TestCatalogue(t *testing.T) {
	cat, err := Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	all, _ := All()
	want := len(all) + len(audit.PolicyChecks) + len(audit.LogChecks) + len(node.Checks())
	if len(cat) != want {
		t.Errorf("catalogue has %d checks, want %d", len(cat), want)
	}
	for _, id := range []string{"pss-privileged", "rbac-wildcard", "audit-log-exec", "audit-policy-sensitive-body", "apiserver-profiling", "kubelet-anonymous-auth"} {
		if !Known(id) {
			t.Errorf("%s is not in the catalogue", id)
		}
	}
	if Known("no-such-check") {
		t.Error("an unknown ID is known")
	}
}
