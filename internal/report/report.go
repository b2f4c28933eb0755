// Package report writes scan results in the formats kubeguard offers. Each
// format is one small type behind the Output interface.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// Report is everything a scan produced.
type Report struct {
	// Tool version, for machine-readable formats.
	Version string
	// Checks are the checks that ran, for rule metadata.
	Checks []check.Check
	// Objects are the objects scanned, in input order.
	Objects  []Object
	Findings []finding.Finding
	Errors   []finding.InputError
}

// Object is one scanned object and where it starts.
type Object struct {
	Ref      finding.ObjectRef `json:"object"`
	Location finding.Location  `json:"location"`
}

// Output writes a report in one format.
type Output interface {
	Write(w io.Writer, r *Report) error
}

// Options tune the human-readable output.
type Options struct {
	// Color turns on ANSI colours; set it only when writing to a terminal.
	Color bool
	// Compact writes the text report one line per finding, without the
	// fixes ('kubeguard explain CHECK-ID' shows them).
	Compact bool
}

// Formats lists the format names New accepts.
var Formats = []string{"text", "json", "sarif", "junit"}

// New returns the output for a format name.
func New(format string, opts Options) (Output, error) {
	switch format {
	case "text":
		return Text(opts), nil
	case "json":
		return JSON{}, nil
	case "sarif":
		return SARIF{}, nil
	case "junit":
		return JUnit{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// Sort orders findings by file, line, column, then check ID, so that every
// output is stable whatever order the workers finished in.
func Sort(fs []finding.Finding) {
	// Findings are large: their order is found on indexes, ties kept in
	// the order they came, and each is moved once.
	order := make([]int32, len(fs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &fs[i].Location, &fs[j].Location
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return cmp.Compare(a.Line, b.Line)
		}
		if a.Column != b.Column {
			return cmp.Compare(a.Column, b.Column)
		}
		if c := strings.Compare(fs[i].CheckID, fs[j].CheckID); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	sorted := make([]finding.Finding, len(fs))
	for k, i := range order {
		sorted[k] = fs[i]
	}
	copy(fs, sorted)
}
