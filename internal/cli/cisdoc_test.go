package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/node"
)

var updateCIS = flag.Bool("update-cis", false, "rewrite docs/cis-benchmark.md and docs/node-checks.md")

const nodeChecksDoc = "../../docs/node-checks.md"

// TestNodeChecksDoc holds docs/node-checks.md to the node checks'
// metadata (-update-cis rewrites it).
func TestNodeChecksDoc(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# kubeguard node checks\n\nGenerated from the checks' metadata by `go test ./internal/cli -run TestNodeChecksDoc -update-cis`; see [node.md](node.md) for how settings are judged and [cis-benchmark.md](cis-benchmark.md) for the benchmark.\n\n")
	b.WriteString("| ID | Severity | Title | CIS v1.12 | Why | Fix |\n|----|----------|-------|-----------|-----|-----|\n")
	for _, c := range node.Checks() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", c.ID, c.Severity, c.Title, strings.Join(c.CIS, ", "), c.Rationale, c.Remediation)
	}
	if *updateCIS {
		if err := os.WriteFile(nodeChecksDoc, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(nodeChecksDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Error("docs/node-checks.md is stale: go test ./internal/cli -run TestNodeChecksDoc -update-cis")
	}
}

const cisDoc = "../../docs/cis-benchmark.md"

// TestCISDoc holds docs/cis-benchmark.md to the node checks' own CIS
// mappings and to the notes on the recommendations automated elsewhere or
// not at all: every recommendation is accounted for, every check named
// exists, and the file is what they generate (-update-cis rewrites it).
func TestCISDoc(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range all {
		known[c.ID] = true
	}
	byCIS := map[string][]string{}
	for _, c := range node.Checks() {
		known[c.ID] = true
		for _, id := range c.CIS {
			byCIS[id] = append(byCIS[id], c.ID)
		}
	}
	ids := map[string]bool{}
	var b bytes.Buffer
	b.WriteString(`# CIS Kubernetes Benchmark v1.12 and kubeguard

Every recommendation of the benchmark (as kube-bench's cfg/cis-1.12 words
it), and the kubeguard check that automates it, or why none does.
` + "`kubeguard node`" + ` judges the effective setting (flag, else configuration file,
else the upstream default), so a recommendation the benchmark marks Manual
is often automated here. Generated from the checks' metadata by
` + "`go test ./internal/cli -run TestCISDoc -update-cis`" + `.

| CIS | Recommendation | kubeguard |
|-----|----------------|-----------|
`)
	checkID := regexp.MustCompile(`\b(rbac|pss|service|secret|namespace|image|pod|read|pki)-[A-Za-z_-]+`)
	for _, it := range node.CISBenchmark {
		ids[it.ID] = true
		var where []string
		if cs := byCIS[it.ID]; len(cs) > 0 {
			where = append(where, "kubeguard node: `"+strings.Join(cs, "`, `")+"`")
		}
		if it.Elsewhere != "" {
			where = append(where, it.Elsewhere)
			for _, id := range checkID.FindAllString(it.Elsewhere, -1) {
				if !known[id] {
					t.Errorf("CIS %s names %s, which is no check", it.ID, id)
				}
			}
		}
		if len(where) == 0 {
			t.Errorf("CIS %s is neither automated nor explained", it.ID)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", it.ID, it.Title, strings.Join(where, "; "))
	}
	for id, cs := range byCIS {
		if !ids[id] {
			t.Errorf("%v name CIS %s, which the benchmark does not have", cs, id)
		}
	}
	if *updateCIS {
		if err := os.WriteFile(cisDoc, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(cisDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Error("docs/cis-benchmark.md is stale: go test ./internal/cli -run TestCISDoc -update-cis")
	}
}
