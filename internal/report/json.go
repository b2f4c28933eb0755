package report

import (
	"bufio"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"sync"

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
	// The long lists are written element by element, encoded in parallel
	// by the appenders of jsonenc.go, rather than through one json.Encoder:
	// that builds the whole document in memory twice (compact, then
	// indented) and grows its buffers by copying, which dominated scans of
	// large inputs. The bytes are the same as the Encoder's.
	head := out
	head.Objects, head.Findings, head.Errors = nil, nil, nil
	b, err := json.MarshalIndent(struct {
		Schema  string      `json:"schema"`
		Version string      `json:"version"`
		Summary jsonSummary `json:"summary"`
		Checks  []jsonCheck `json:"checks"`
	}{head.Schema, head.Version, head.Summary, head.Checks}, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(b[:len(b)-2]) // without the closing "\n}"
	bw.WriteString(",\n  \"objects\": ")
	if err := writeList(bw, out.Objects, 1, appendObject); err != nil {
		return err
	}
	bw.WriteString(",\n  \"findings\": ")
	if err := writeList(bw, out.Findings, 1, newCheckQuotes(r.Checks).appendFinding); err != nil {
		return err
	}
	bw.WriteString(",\n  \"errors\": ")
	if err := writeList(bw, out.Errors, 1, appendInputError); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// writeList writes items as an indented JSON array that is a field of an
// object depth levels deep (the top-level object is at depth 1), as
// json.Encoder with two-space indentation would. appendItem writes an
// item's first line without indentation and its later lines with the
// item's. Runs of items are encoded by appendItem on all cores and written
// in order, a few runs at a time, so memory stays bounded.
func writeList[T any](w *bufio.Writer, items []T, depth int, appendItem func([]byte, *T) []byte) error {
	if len(items) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	indent := strings.Repeat("  ", depth+1)
	w.WriteString("[\n")
	const run = 256
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
	for start := 0; start < len(items); start += run * workers {
		var wg sync.WaitGroup
		for k := range workers {
			lo, hi := start+k*run, min(start+(k+1)*run, len(items))
			bufs[k] = bufs[k][:0]
			if lo >= hi {
				continue
			}
			wg.Go(func() {
				b := bufs[k]
				for i := lo; i < hi; i++ {
					b = append(b, indent...)
					b = appendItem(b, &items[i])
					if i < len(items)-1 {
						b = append(b, ',')
					}
					b = append(b, '\n')
				}
				bufs[k] = b
			})
		}
		wg.Wait()
		for k := range workers {
			if _, err := w.Write(bufs[k]); err != nil {
				return err
			}
		}
	}
	_, err := w.WriteString(indent[2:] + "]")
	return err
}
