package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Text writes findings grouped by object, for people.
type Text struct {
	Color bool
}

// Write implements Output.
func (t Text) Write(w io.Writer, r *Report) error {
	b := bufio.NewWriter(w)
	for _, e := range r.Errors {
		fmt.Fprintf(b, "%s %s: %s\n", t.paint("31;1", "error"), e.Location, e.Message)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n")
	}
	var last finding.ObjectRef
	lastFile := ""
	var shown []finding.Finding
	suppressed := 0
	for _, f := range r.Findings {
		if f.Suppressed != nil {
			suppressed++
			continue
		}
		shown = append(shown, f)
	}
	for i, f := range shown {
		if i == 0 || f.Object != last || f.Location.File != lastFile {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(b, "%s  %s\n", t.paint("1", f.Object.String()), t.paint("2", fileOf(f.Location)))
			last, lastFile = f.Object, f.Location.File
		}
		fmt.Fprintf(b, "  %s %s %s\n", t.severity(f.Severity), t.paint("1", f.CheckID), f.Title)
		fmt.Fprintf(b, "      at %s", f.Location)
		if f.Path != "" {
			fmt.Fprintf(b, "  %s", f.Path)
		}
		b.WriteString("\n")
		reason := f.Reason
		if f.Detail != "" {
			reason += ": " + f.Detail
		}
		fmt.Fprintf(b, "      %s\n", reason)
		for _, a := range f.Admission {
			fmt.Fprintf(b, "      %s %s\n", t.paint("33", "admission:"), a)
		}
		fmt.Fprintf(b, "      %s %s\n", t.paint("36", "fix:"), indent(f.Remediation, "           "))
	}
	if len(shown) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "%d objects scanned, %s", len(r.Objects), summary(shown))
	if suppressed > 0 {
		fmt.Fprintf(b, ", %d suppressed", suppressed)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(b, ", %d input errors", len(r.Errors))
	}
	b.WriteString("\n")
	return b.Flush()
}

func fileOf(l finding.Location) string {
	if l.Template != "" {
		return l.Template + " (" + l.File + ")"
	}
	return l.File
}

func summary(fs []finding.Finding) string {
	if len(fs) == 0 {
		return "no findings"
	}
	var counts [finding.Critical + 1]int
	for _, f := range fs {
		counts[f.Severity]++
	}
	var parts []string
	for s := finding.Critical; s >= finding.Info; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	return fmt.Sprintf("%d findings (%s)", len(fs), strings.Join(parts, ", "))
}

func indent(s, pad string) string {
	return strings.ReplaceAll(s, "\n", "\n"+pad)
}

var severityColors = map[finding.Severity]string{
	finding.Critical: "35;1", finding.High: "31;1", finding.Medium: "33", finding.Low: "34", finding.Info: "2",
}

func (t Text) severity(s finding.Severity) string {
	return t.paint(severityColors[s], fmt.Sprintf("%-8s", strings.ToUpper(s.String())))
}

func (t Text) paint(code, s string) string {
	if !t.Color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
