package report

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// JSONSchemaVersion is the version of the JSON report's layout. It changes
// only when a field is removed or changes meaning; new fields may appear.
const JSONSchemaVersion = "kubeguard.io/report/v1"

// JSON writes the report as one JSON document (see docs/json-report.md).
type JSON struct{}

// The document's fields, in order: schema, version, checks, findings,
// objects, errors, summary. The findings come before the lists and counts
// that are complete only once the last is known, so that a scan writes
// them as it finds them. docs/json-report.md describes every field and
// must change with them.

type jsonHead struct {
	Schema  string      `json:"schema"`
	Version string      `json:"version"`
	Config  string      `json:"config,omitempty"`
	Checks  []jsonCheck `json:"checks"`
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
func (f JSON) Write(w io.Writer, r *Report) error { return writeWhole(f, w, r) }

func (JSON) encoder(h *Head) encoder { return jsonEncoder{newCheckQuotes(h.Checks)} }

// jsonEncoder writes the long lists element by element, encoded in
// parallel by the appenders of jsonenc.go, rather than through one
// json.Encoder: that builds the whole document in memory twice (compact,
// then indented) and grows its buffers by copying, which dominated scans of
// large inputs. The bytes are the same as the Encoder's.
type jsonEncoder struct{ quotes checkQuotes }

func (e jsonEncoder) head(s *Stream) error {
	h := jsonHead{Schema: JSONSchemaVersion, Version: s.h.Version, Config: s.h.Config, Checks: make([]jsonCheck, 0, len(s.h.Checks))}
	for _, c := range s.h.Checks {
		h.Checks = append(h.Checks, jsonCheck{ID: c.ID, Title: c.Title, Severity: c.Severity, Category: c.Category, DocURL: c.DocURL})
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	s.out().Write(b[:len(b)-2]) // without the closing "\n}"
	s.out().WriteString(",\n  \"findings\": [")
	s.trim = 1 // the comma of the first finding
	return s.putFindings(s.h.Findings)
}

func (e jsonEncoder) part(b []byte, _ *Object, fs []finding.Finding) []byte {
	for i := range fs {
		b = append(b, ",\n    "...)
		b = e.quotes.appendFinding(b, &fs[i])
	}
	return b
}

func (e jsonEncoder) object(b []byte, o *Object) []byte {
	b = append(b, ",\n    "...)
	return appendObject(b, o)
}

func (e jsonEncoder) tail(s *Stream) error {
	w := s.out()
	if s.wrote {
		w.WriteString("\n  ")
	}
	w.WriteString("],\n  \"objects\": [")
	if s.objects.wrote {
		if err := s.spool.copyTo(w); err != nil {
			return err
		}
		w.WriteString("\n  ")
	}
	w.WriteString("]")
	w.WriteString(",\n  \"errors\": ")
	if err := writeList(w, s.errors, 1, appendInputError); err != nil {
		return err
	}
	sum := s.Summary()
	js := jsonSummary{Objects: sum.Objects, Errors: sum.Errors, BySeverity: map[string]int{}}
	for sev := range sum.Active {
		if n := sum.Active[sev] + sum.Suppressed[sev]; n > 0 {
			js.BySeverity[finding.Severity(sev).String()] = n
			js.Findings += n
		}
		js.Suppressed += sum.Suppressed[sev]
	}
	b, err := json.MarshalIndent(js, "  ", "  ")
	if err != nil {
		return err
	}
	w.WriteString(",\n  \"summary\": ")
	w.Write(b)
	_, err = w.WriteString("\n}\n")
	return err
}

// writeList writes items as an indented JSON array that is a field of an
// object depth levels deep (the top-level object is at depth 1), as
// json.Encoder with two-space indentation would. appendItem writes an
// item's first line without indentation and its later lines with the
// item's. The items are encoded on all cores (encodeRuns).
func writeList[T any](w *bufio.Writer, items []T, depth int, appendItem func([]byte, *T) []byte) error {
	if len(items) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	indent := "\n" + strings.Repeat("  ", depth+1)
	w.WriteString("[")
	l := list{w: w, trim: 1}
	err := encodeRuns(len(items), func(b []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			b = append(b, ',')
			b = append(b, indent...)
			b = appendItem(b, &items[i])
		}
		return b
	}, l.put)
	if err != nil {
		return err
	}
	_, err = w.WriteString(indent[:len(indent)-2] + "]")
	return err
}
