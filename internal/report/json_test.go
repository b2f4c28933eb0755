package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// TestJSONDocumented keeps docs/json-report.md and the writer in step:
// every field the full report writes has a row in the document's tables,
// and every row names a field the report writes.
func TestJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json-report.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\|").FindAllSubmatch(doc, -1) {
		documented[string(m[1])] = true
	}

	var buf bytes.Buffer
	full := fullReport()
	full.Config = ".kubeguard.yaml" // written only when one was used
	if err := (JSON{}).Write(&buf, full); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	written := map[string]bool{}
	var walk func(v any, severities bool)
	walk = func(v any, severities bool) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e, false)
			}
		case map[string]any:
			for k, e := range v {
				if !severities { // bySeverity's keys are data, not fields
					written[k] = true
				}
				walk(e, k == "bySeverity")
			}
		}
	}
	walk(v, false)

	var undocumented, unwritten []string
	for k := range written {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range documented {
		if !written[k] {
			unwritten = append(unwritten, k)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unwritten)
	if len(undocumented) > 0 {
		t.Errorf("fields missing from docs/json-report.md: %v", undocumented)
	}
	if len(unwritten) > 0 {
		t.Errorf("docs/json-report.md documents fields the report does not write: %v", unwritten)
	}
}

// TestJSONRoundTrip: a consumer decoding with kubeguard's own types gets
// back what was written, and empty lists are [] rather than null.
func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
	}{
		{"full", fullReport()},
		{"empty", &Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (JSON{}).Write(&buf, tt.report); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Schema   string               `json:"schema"`
				Objects  []Object             `json:"objects"`
				Findings []finding.Finding    `json:"findings"`
				Errors   []finding.InputError `json:"errors"`
				Checks   []json.RawMessage    `json:"checks"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Schema != JSONSchemaVersion {
				t.Errorf("schema = %q, want %q", got.Schema, JSONSchemaVersion)
			}
			if got.Objects == nil || got.Findings == nil || got.Errors == nil || got.Checks == nil {
				t.Errorf("a list is null:\n%s", buf.String())
			}
			if len(got.Checks) != len(tt.report.Checks) {
				t.Errorf("got %d checks, want %d", len(got.Checks), len(tt.report.Checks))
			}
			wantObjects := tt.report.Objects
			if wantObjects == nil {
				wantObjects = []Object{}
			}
			wantFindings := tt.report.Findings
			if wantFindings == nil {
				wantFindings = []finding.Finding{}
			}
			if diff := cmp.Diff(wantObjects, got.Objects); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantFindings, got.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}
