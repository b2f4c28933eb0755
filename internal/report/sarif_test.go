package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official SARIF 2.1.0 schema (OASIS, errata 01) is not copied into
// this repository. The module below ships it, byte for byte, as a Go
// string constant; the test reads it from the module cache and checks its
// digest against the OASIS file (sarif-2.1/schema/sarif-schema-2.1.0.json
// in github.com/oasis-tcs/sarif-spec), so a different document cannot
// slip in.
const (
	sarifSchemaModule = "github.com/owenrumney/go-sarif/v3@v3.3.1"
	sarifSchemaFile   = "pkg/report/v210/sarif/schema.go"
	sarifSchemaSHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
)

var sarifValidator = sync.OnceValues(func() (*jsonschema.Schema, error) {
	// Run outside this module so that go.mod is never touched; the go
	// command answers from the module cache when the module is there and
	// from the module proxy otherwise.
	cmd := exec.Command("go", "mod", "download", "-json", sarifSchemaModule)
	cmd.Dir = os.TempDir()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %w\n%s", sarifSchemaModule, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, err
	}
	if mod.Error != "" || mod.Dir == "" {
		return nil, fmt.Errorf("go mod download %s: %s", sarifSchemaModule, mod.Error)
	}
	schema, err := constString(filepath.Join(mod.Dir, sarifSchemaFile), "schema")
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256([]byte(schema)); hex.EncodeToString(sum[:]) != sarifSchemaSHA256 {
		return nil, fmt.Errorf("%s: schema digest %x, want the OASIS file's %s", sarifSchemaModule, sum, sarifSchemaSHA256)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(schema)))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SARIFSchema, doc); err != nil {
		return nil, err
	}
	return c.Compile(SARIFSchema)
})

// constString returns the value of a string constant declared in a Go file.
func constString(file, name string) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if n.Name != name || i >= len(v.Values) {
					continue
				}
				if lit, ok := v.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					return strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return "", fmt.Errorf("%s: no string constant %s", file, name)
}

func validateSARIF(t *testing.T, data []byte) error {
	t.Helper()
	sch, err := sarifValidator()
	if err != nil {
		t.Fatalf("loading the SARIF 2.1.0 schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

func writeSARIF(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (SARIF{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSARIFValidAgainstSchema(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
	}{
		{"full", fullReport()},
		{"clean", cleanReport()},
		{"nothing at all", &Report{}},
		{"live cluster objects without files", &Report{
			Checks:   fullReport().Checks,
			Findings: []finding.Finding{found(privileged, web, finding.Location{}, "spec.template.spec.containers[0].securityContext.privileged", "privileged", "")},
			Errors:   []finding.InputError{{Message: "list pods: forbidden"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validateSARIF(t, writeSARIF(t, tt.report)); err != nil {
				t.Errorf("not valid SARIF 2.1.0:\n%v", err)
			}
		})
	}
}

// TestSARIFSchemaRejects proves the validator is really checking: each
// mutation breaks a rule of the schema and must be caught.
func TestSARIFSchemaRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(log map[string]any)
	}{
		{"no version", func(log map[string]any) { delete(log, "version") }},
		{"unknown level", func(log map[string]any) { result(log)["level"] = "fatal" }},
		{"line 0", func(log map[string]any) {
			loc := result(log)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"] = map[string]any{"startLine": 0}
		}},
		{"unknown property", func(log map[string]any) { result(log)["file"] = "deploy/app.yaml" }},
		{"invocation without outcome", func(log map[string]any) {
			inv := log["runs"].([]any)[0].(map[string]any)["invocations"].([]any)[0].(map[string]any)
			delete(inv, "executionSuccessful")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal(writeSARIF(t, fullReport()), &log); err != nil {
				t.Fatal(err)
			}
			tt.mutate(log)
			data, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			if validateSARIF(t, data) == nil {
				t.Error("the schema accepted a broken log")
			}
		})
	}
}

func result(log map[string]any) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

// decoded SARIF, only the parts the tests below look at.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string
					DefaultConfiguration struct{ Level string }
					Properties           map[string]any
				}
			}
		}
		Invocations []struct {
			ExecutionSuccessful        bool
			ToolExecutionNotifications []struct{ Level string }
		}
		Results []struct {
			RuleID              string
			RuleIndex           int
			Level               string
			Message             struct{ Text string }
			PartialFingerprints map[string]string
			Suppressions        []struct{ Kind string }
		}
	}
}

func decodeSARIF(t *testing.T, r *Report) sarifDoc {
	t.Helper()
	var doc sarifDoc
	if err := json.Unmarshal(writeSARIF(t, r), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(doc.Runs))
	}
	return doc
}

func TestSARIFRulesAndResults(t *testing.T) {
	r := fullReport()
	run := decodeSARIF(t, r).Runs[0]
	rules := run.Tool.Driver.Rules

	// One rule per check, in order, then one for the finding whose check
	// was not listed.
	var ids []string
	for _, rule := range rules {
		ids = append(ids, rule.ID)
	}
	want := []string{privileged.ID, runAsNonRoot.ID, readOnlyRoot.ID, automount.ID, nsLabels.ID, expiredExemption.ID}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("rule IDs (-want +got):\n%s", diff)
	}

	levels := map[string]string{}
	for _, rule := range rules {
		levels[rule.ID] = rule.DefaultConfiguration.Level + " " + fmt.Sprint(rule.Properties["security-severity"])
	}
	wantLevels := map[string]string{
		privileged.ID:       "error 9.5",
		runAsNonRoot.ID:     "error 8.0",
		readOnlyRoot.ID:     "warning 5.5",
		automount.ID:        "note 3.0",
		nsLabels.ID:         "note <nil>",
		expiredExemption.ID: "warning 5.5",
	}
	if diff := cmp.Diff(wantLevels, levels); diff != "" {
		t.Errorf("rule levels and security-severity (-want +got):\n%s", diff)
	}

	if len(run.Results) != len(r.Findings) {
		t.Fatalf("got %d results for %d findings", len(run.Results), len(r.Findings))
	}
	suppressed := 0
	for i, res := range run.Results {
		f := r.Findings[i]
		if res.RuleID != f.CheckID || rules[res.RuleIndex].ID != f.CheckID {
			t.Errorf("result %d: ruleId %s, ruleIndex %d (%s), want %s", i, res.RuleID, res.RuleIndex, rules[res.RuleIndex].ID, f.CheckID)
		}
		if res.Level != sarifLevel(f.Severity) {
			t.Errorf("result %d: level %s for severity %s", i, res.Level, f.Severity)
		}
		if want := f.Reason + ": " + f.Detail; res.Message.Text[:min(len(want), len(res.Message.Text))] != want {
			t.Errorf("result %d: message %q does not start with %q", i, res.Message.Text, want)
		}
		suppressed += len(res.Suppressions)
	}
	if suppressed != 3 {
		t.Errorf("got %d suppressions, want 3", suppressed)
	}

	inv := run.Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != len(r.Errors) {
		t.Errorf("invocations = %+v, want one, unsuccessful, with %d notifications", inv, len(r.Errors))
	}
	clean := decodeSARIF(t, cleanReport()).Runs[0].Invocations
	if len(clean) != 1 || !clean[0].ExecutionSuccessful || len(clean[0].ToolExecutionNotifications) != 0 {
		t.Errorf("clean scan invocations = %+v, want one, successful, without notifications", clean)
	}
}

// TestSARIFFingerprints: fingerprints tell findings apart and survive
// edits that move them to other lines, so code scanning keeps its alerts.
func TestSARIFFingerprints(t *testing.T) {
	fingerprints := func(r *Report) []string {
		var fps []string
		for _, res := range decodeSARIF(t, r).Runs[0].Results {
			fps = append(fps, res.PartialFingerprints[SARIFFingerprint])
		}
		return fps
	}
	before := fingerprints(fullReport())
	seen := map[string]int{}
	for i, fp := range before {
		if len(fp) != 64 {
			t.Errorf("result %d: fingerprint %q is not a SHA-256", i, fp)
		}
		if j, dup := seen[fp]; dup {
			t.Errorf("results %d and %d share fingerprint %s", j, i, fp)
		}
		seen[fp] = i
	}

	moved := fullReport()
	for i := range moved.Findings {
		moved.Findings[i].Location.Line += 10
		moved.Findings[i].Location.Column += 2
	}
	if diff := cmp.Diff(before, fingerprints(moved)); diff != "" {
		t.Errorf("fingerprints changed when lines moved (-before +after):\n%s", diff)
	}

	tests := []struct {
		name   string
		change func(f *finding.Finding)
	}{
		{"check", func(f *finding.Finding) { f.CheckID = "other" }},
		{"object name", func(f *finding.Finding) { f.Object.Name = "api" }},
		{"namespace", func(f *finding.Finding) { f.Object.Namespace = "prod" }},
		{"path", func(f *finding.Finding) { f.Path = "spec.template.spec.containers[1].securityContext.privileged" }},
		{"container", func(f *finding.Finding) { f.Containers = []string{"sidecar"} }},
		{"file", func(f *finding.Finding) { f.Location.File = "overlays/prod/app.yaml" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullReport()
			tt.change(&r.Findings[1])
			if got := fingerprints(r)[1]; got == before[1] {
				t.Errorf("changing the %s kept fingerprint %s", tt.name, got)
			}
		})
	}
}

func TestSARIFArtifact(t *testing.T) {
	tests := []struct {
		file string
		want sarifArtifactLocation
	}{
		{"deploy/app.yaml", sarifArtifactLocation{URI: "deploy/app.yaml", URIBaseID: srcRoot}},
		{"../shared/ns.yaml", sarifArtifactLocation{URI: "../shared/ns.yaml", URIBaseID: srcRoot}},
		{"team a/50%.yaml", sarifArtifactLocation{URI: "team%20a/50%25.yaml", URIBaseID: srcRoot}},
		{"app#1.yaml", sarifArtifactLocation{URI: "app%231.yaml", URIBaseID: srcRoot}},
		// Without "./" the part before the colon would read as a scheme.
		{"a:b.yaml", sarifArtifactLocation{URI: "./a:b.yaml", URIBaseID: srcRoot}},
		{"/srv/manifests/app.yaml", sarifArtifactLocation{URI: "file:///srv/manifests/app.yaml"}},
		{"<stdin>", sarifArtifactLocation{Description: &sarifMessage{Text: "standard input"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sarifArtifact(tt.file)); diff != "" {
				t.Errorf("sarifArtifact(%q) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestRuleName(t *testing.T) {
	tests := map[string]string{
		"read-only-root-filesystem":    "ReadOnlyRootFilesystem",
		"pss-allowPrivilegeEscalation": "PssAllowPrivilegeEscalation",
		"pss-seccompProfile_baseline":  "PssSeccompProfileBaseline",
	}
	for id, want := range tests {
		t.Run(id, func(t *testing.T) {
			if got := ruleName(id); got != want {
				t.Errorf("ruleName(%q) = %q, want %q", id, got, want)
			}
		})
	}
}

func TestMarkdownOf(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"prose", "Remove hostNetwork.", "Remove hostNetwork."},
		{
			"snippet after prose",
			"Set in every container:\n  securityContext:\n    privileged: false",
			"Set in every container:\n```yaml\nsecurityContext:\n  privileged: false\n```",
		},
		{
			"prose after snippet",
			"Set:\n  capabilities:\n    drop: [\"ALL\"]\nand add back at most NET_BIND_SERVICE.",
			"Set:\n```yaml\ncapabilities:\n  drop: [\"ALL\"]\n```\nand add back at most NET_BIND_SERVICE.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, markdownOf(tt.text)); diff != "" {
				t.Errorf("markdownOf (-want +got):\n%s", diff)
			}
		})
	}
}
