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

// jsonReport is the document; docs/json-report.md describes every field
// and must change with it.
type jsonReport struct {
	Schema   string               `json:"schema"`
	Version  string               `json:"version"`
	Summary  jsonSummary          `json:"summary"`
	Checks   []jsonCheck          `json:"checks"`
	Objects  []Object             `json:"objects"`
	Findings []finding.Finding    `json:"findings"`
	Errors   []finding.InputError `json:"errors"`
}

type jsonSummary struct {
	Objects    int            `json:"objects"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed"`
	Errors     int            `json:"errors"`
	BySeverity map[string]int `json:"bySeverity"`
}

// jsonCheck lists a check that ran, so that a reader can tell a clean
// result from a check that was disabled.
type jsonCheck struct {
	ID       string           `json:"id"`
	Title    string           `json:"title"`
	Severity finding.Severity `json:"severity"`
	Category string           `json:"category"`
	DocURL   string           `json:"docURL"`
}

// Write implements Output.
func (JSON) Write(w io.Writer, r *Report) error {
	out := jsonReport{
		Schema:   JSONSchemaVersion,
		Version:  r.Version,
		Checks:   make([]jsonCheck, 0, len(r.Checks)),
		Objects:  r.Objects,
		Findings: r.Findings,
		Errors:   r.Errors,
		Summary: jsonSummary{
			Objects:    len(r.Objects),
			Findings:   len(r.Findings),
			Errors:     len(r.Errors),
			BySeverity: map[string]int{},
		},
	}
	// Empty lists are written as [], never null, so that consumers can
	// iterate without a nil check.
	if out.Objects == nil {
		out.Objects = []Object{}
	}
	if out.Findings == nil {
		out.Findings = []finding.Finding{}
	}
	if out.Errors == nil {
		out.Errors = []finding.InputError{}
	}
	for _, c := range r.Checks {
		out.Checks = append(out.Checks, jsonCheck{ID: c.ID, Title: c.Title, Severity: c.Severity, Category: c.Category, DocURL: c.DocURL})
	}
	for _, f := range r.Findings {
		out.Summary.BySeverity[f.Severity.String()]++
		if f.Suppressed != nil {
			out.Summary.Suppressed++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
