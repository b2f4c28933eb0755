package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/corpus/findings.golden")

// TestCorpus scans public manifests of well-known projects (SOURCES.md
// names each file's repository, path and commit) and holds the findings,
// reviewed by hand (REVIEW.md), to findings.golden: a change of any
// verdict, severity or place on real input shows in review.
func TestCorpus(t *testing.T) {
	root := filepath.Join("testdata", "corpus")
	projects := []struct {
		dir  string
		args []string
	}{
		{"argo-cd", []string{"-n", "argocd"}},
		{"badpods", nil},
		{"ingress-nginx", nil},
		{"kubernetes-goat", nil},
		{"kube-prometheus", nil},
	}
	var b strings.Builder
	for _, p := range projects {
		args := append(append([]string{"scan", "-o", "json", "--fail-on", "critical"}, p.args...), filepath.Join(root, p.dir))
		_, out, stderr := runCLI(args, "")
		r := decodeReport(t, out)
		if r.Summary.Errors != 0 {
			t.Errorf("%s: input errors: %s", p.dir, stderr)
		}
		fmt.Fprintf(&b, "## kubeguard %s\n", strings.Join(args[5:], " "))
		var lines []string
		for _, f := range decodeFull(t, out) {
			loc := f["location"].(map[string]any)
			obj := f["object"].(map[string]any)
			file, _ := filepath.Rel(root, loc["file"].(string))
			ns, _ := obj["namespace"].(string)
			lines = append(lines, fmt.Sprintf("%s:%v %s %s %s/%s/%s", filepath.ToSlash(file), loc["line"], f["severity"], f["checkID"], obj["kind"], ns, obj["name"]))
		}
		sort.Strings(lines)
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	golden := filepath.Join(root, "findings.golden")
	if *updateCorpus {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestCorpus -update, and review the result)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("corpus findings changed (-golden +now); review, then -update:\n%s", diff)
	}
}
