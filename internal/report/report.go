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
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(a.Location.File, b.Location.File),
			cmp.Compare(a.Location.Line, b.Location.Line),
			cmp.Compare(a.Location.Column, b.Location.Column),
			cmp.Compare(a.CheckID, b.CheckID),
		)
	})
}
