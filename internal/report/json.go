package report

import (
	"encoding/json"
	"io"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// JSONSchemaVersion is the version of the JSON report's layout. It changes
// only when a field is removed or changes meaning; new fields may appear.
const JSONSchemaVersion = "kubeguard.io/report/v1"

// JSON writes the report as one JSON document (see docs/json-report.md).
type JSON struct{}

type jsonReport struct {
	Schema   string               `json:"schema"`
	Version  string               `json:"version"`
	Summary  jsonSummary          `json:"summary"`
	Findings []finding.Finding    `json:"findings"`
	Errors   []finding.InputError `json:"errors"`
}

type jsonSummary struct {
	Objects    int            `json:"objects"`
	Findings   int            `json:"findings"`
	Errors     int            `json:"errors"`
	BySeverity map[string]int `json:"bySeverity"`
}

// Write implements Output.
func (JSON) Write(w io.Writer, r *Report) error {
	out := jsonReport{
		Schema:   JSONSchemaVersion,
		Version:  r.Version,
		Findings: r.Findings,
		Errors:   r.Errors,
		Summary: jsonSummary{
			Objects:    len(r.Objects),
			Findings:   len(r.Findings),
			Errors:     len(r.Errors),
			BySeverity: map[string]int{},
		},
	}
	if out.Findings == nil {
		out.Findings = []finding.Finding{}
	}
	if out.Errors == nil {
		out.Errors = []finding.InputError{}
	}
	for _, f := range r.Findings {
		out.Summary.BySeverity[f.Severity.String()]++
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
