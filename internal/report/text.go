package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Text writes findings grouped by object, for people.
type Text struct {
	// Color turns on ANSI colours; the caller sets it only for a terminal.
	Color bool
	// Compact writes one line per finding instead of a group per object:
	// where, severity, check, object, reason; no fix.
	Compact bool
}

// Write implements Output.
func (t Text) Write(w io.Writer, r *Report) error { return writeWhole(t, w, r) }

func (t Text) encoder(*Head) encoder { return t }

// head writes nothing: the findings of the head are grouped by object in
// the tail.
func (t Text) head(*Stream) error { return nil }

func (t Text) part(b []byte, o *Object, fs []finding.Finding) []byte {
	return t.appendGroup(b, o, pointers(fs))
}

// appendGroup appends an object and its findings that are not suppressed;
// nothing when there are none.
func (t Text) appendGroup(b []byte, o *Object, fs []*finding.Finding) []byte {
	if !slices.ContainsFunc(fs, active) {
		return b
	}
	if t.Compact {
		return t.appendLines(b, o, fs)
	}
	// Appended piece by piece: fmt was most of what the text report cost.
	b = appendAll(b, t.paint("1", o.Ref.String()), "  ", t.paint("2", fileOf(o.Location)), "\n")
	// A check often fires once per container; its fix is the same each
	// time, so it is printed once per object.
	var fixed []string
	for _, f := range fs {
		if !active(f) {
			continue
		}
		b = appendAll(b, "  ", t.severity(f.Severity), " ", t.paint("1", f.CheckID), " ", f.Title, "\n")
		// Objects read from a live cluster have a field path but no
		// file: the path alone says where.
		switch loc := f.Location.String(); {
		case loc != "" && f.Path != "":
			b = appendAll(b, "      at ", loc, "  ", f.Path, "\n")
		case loc != "":
			b = appendAll(b, "      at ", loc, "\n")
		case f.Path != "":
			b = appendAll(b, "      at ", f.Path, "\n")
		}
		b = appendAll(b, "      ", f.Reason)
		if f.Detail != "" {
			b = appendAll(b, ": ", f.Detail)
		}
		b = append(b, '\n')
		for _, a := range f.Admission {
			b = appendAll(b, "      ", t.paint("33", "admission:"), " ", a, "\n")
		}
		if f.Remediation != "" && !slices.Contains(fixed, f.CheckID) {
			fixed = append(fixed, f.CheckID)
			b = appendAll(b, "      ", t.paint("36", "fix:"), " ")
			b = appendIndented(b, f.Remediation, "           ")
			b = append(b, '\n')
		}
	}
	return append(b, '\n')
}

// appendLines appends a line per active finding, as compilers write
// diagnostics: FILE:LINE:COL: SEVERITY CHECK-ID OBJECT [CONTAINERS]: REASON.
// The detail and the fix are left to the full report and to explain.
func (t Text) appendLines(b []byte, o *Object, fs []*finding.Finding) []byte {
	for _, f := range fs {
		if !active(f) {
			continue
		}
		loc := f.Location.String()
		switch {
		case loc == "" && f.Path != "":
			loc = f.Path
		case loc == "":
			loc = o.Location.String()
		}
		b = appendAll(b, t.paint("2", loc), ": ", t.severity(f.Severity), " ", t.paint("1", f.CheckID), " ", o.Ref.String())
		if len(f.Containers) > 0 {
			b = appendAll(b, " [", strings.Join(f.Containers, ","), "]")
		}
		b = appendAll(b, ": ", f.Reason, "\n")
	}
	return b
}

// object appends nothing: the text lists objects with findings only.
func (t Text) object(b []byte, _ *Object) []byte { return b }

// tail writes the objects of the head with their findings, the input
// errors and the counts.
func (t Text) tail(s *Stream) error {
	var b []byte
	for _, g := range byObject(s.h.Objects, s.h.Findings) {
		b = b[:0]
		if err := s.put(t.appendGroup(b, &g.Object, g.Findings)); err != nil {
			return err
		}
	}
	w := s.out()
	for _, e := range s.errors {
		fmt.Fprintf(w, "%s %s: %s\n", t.paint("31;1", "error"), e.Location, e.Message)
	}
	if len(s.errors) > 0 {
		w.WriteString("\n")
	}
	sum := s.Summary()
	shown := severityCounts(sum.Active)
	fmt.Fprintf(w, "%s scanned, %s", plural(sum.Objects, "object"), shown.summary())
	if n := sum.Findings() - shown.total(); n > 0 {
		kinds := slices.Sorted(maps.Keys(sum.SuppressedBy))
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%d %s", sum.SuppressedBy[k], k)
		}
		fmt.Fprintf(w, ", %d suppressed (%s)", n, strings.Join(kinds, ", "))
	}
	if sum.Errors > 0 {
		fmt.Fprintf(w, ", %s", t.paint("31;1", plural(sum.Errors, "input error")))
	}
	if t.Compact && shown.total() > 0 {
		w.WriteString("; 'kubeguard explain CHECK-ID' shows how to fix each")
	}
	_, err := w.WriteString("\n")
	return err
}

func fileOf(l finding.Location) string {
	if l.Template != "" {
		return l.Template + " (" + l.File + ")"
	}
	return l.File
}

// severityCounts counts findings by severity.
type severityCounts [finding.Critical + 1]int

func (c *severityCounts) add(fs []*finding.Finding) {
	for _, f := range fs {
		c[f.Severity]++
	}
}

func (c *severityCounts) total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// summary says how many findings there are and how severe, most severe
// first.
func (c *severityCounts) summary() string {
	n := c.total()
	if n == 0 {
		return "no findings"
	}
	var parts []string
	for s := finding.Critical; s >= finding.Info; s-- {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	return fmt.Sprintf("%s (%s)", plural(n, "finding"), strings.Join(parts, ", "))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// appendIndented appends s with pad after each of its line breaks.
func appendIndented(b []byte, s, pad string) []byte {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			return append(b, s...)
		}
		b = appendAll(b, s[:i+1], pad)
		s = s[i+1:]
	}
}

func appendAll(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = append(b, s...)
	}
	return b
}

var severityColors = map[finding.Severity]string{
	finding.Critical: "35;1", finding.High: "31;1", finding.Medium: "33", finding.Low: "34", finding.Info: "2",
}

func (t Text) severity(s finding.Severity) string {
	label, ok := severityLabels[s]
	if !ok {
		label = fmt.Sprintf("%-8s", strings.ToUpper(s.String()))
	}
	return t.paint(severityColors[s], label)
}

// severityLabels are the severities as the text report prints them,
// padded to one width.
var severityLabels = func() map[finding.Severity]string {
	m := map[finding.Severity]string{}
	for s := range severityColors {
		m[s] = fmt.Sprintf("%-8s", strings.ToUpper(s.String()))
	}
	return m
}()

func (t Text) paint(code, s string) string {
	if !t.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
