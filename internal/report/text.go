package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Text writes findings grouped by object, for people.
type Text struct {
	// Color turns on ANSI colours; the caller sets it only for a terminal.
	Color bool
}

// Write implements Output.
func (t Text) Write(w io.Writer, r *Report) error {
	b := bufio.NewWriterSize(w, 1<<20)
	for _, e := range r.Errors {
		fmt.Fprintf(b, "%s %s: %s\n", t.paint("31;1", "error"), e.Location, e.Message)
	}
	if len(r.Errors) > 0 {
		b.WriteString("\n")
	}
	var shown severityCounts
	suppressed := map[string]int{}
	var active []*finding.Finding
	for _, g := range byObject(r) {
		active = active[:0]
		for _, f := range g.Findings {
			if f.Suppressed != nil {
				suppressed[f.Suppressed.Kind]++
				continue
			}
			active = append(active, f)
		}
		if len(active) == 0 {
			continue
		}
		fmt.Fprintf(b, "%s  %s\n", t.paint("1", g.Object.Ref.String()), t.paint("2", fileOf(g.Object.Location)))
		// A check often fires once per container; its fix is the same
		// each time, so it is printed once per object.
		fixed := map[string]bool{}
		for _, f := range active {
			fmt.Fprintf(b, "  %s %s %s\n", t.severity(f.Severity), t.paint("1", f.CheckID), f.Title)
			// Objects read from a live cluster have a field path but no
			// file: the path alone says where.
			switch loc := f.Location.String(); {
			case loc != "" && f.Path != "":
				fmt.Fprintf(b, "      at %s  %s\n", loc, f.Path)
			case loc != "":
				fmt.Fprintf(b, "      at %s\n", loc)
			case f.Path != "":
				fmt.Fprintf(b, "      at %s\n", f.Path)
			}
			reason := f.Reason
			if f.Detail != "" {
				reason += ": " + f.Detail
			}
			fmt.Fprintf(b, "      %s\n", reason)
			for _, a := range f.Admission {
				fmt.Fprintf(b, "      %s %s\n", t.paint("33", "admission:"), a)
			}
			if !fixed[f.CheckID] && f.Remediation != "" {
				fixed[f.CheckID] = true
				fmt.Fprintf(b, "      %s %s\n", t.paint("36", "fix:"), indent(f.Remediation, "           "))
			}
		}
		b.WriteString("\n")
		shown.add(active)
	}
	fmt.Fprintf(b, "%s scanned, %s", plural(len(r.Objects), "object"), shown.summary())
	if n := sum(suppressed); n > 0 {
		kinds := make([]string, 0, len(suppressed))
		for k := range suppressed {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for i, k := range kinds {
			kinds[i] = fmt.Sprintf("%d %s", suppressed[k], k)
		}
		fmt.Fprintf(b, ", %d suppressed (%s)", n, strings.Join(kinds, ", "))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(b, ", %s", t.paint("31;1", plural(len(r.Errors), "input error")))
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

// severityCounts counts findings by severity.
type severityCounts [finding.Critical + 1]int

func (c *severityCounts) add(fs []*finding.Finding) {
	for _, f := range fs {
		c[f.Severity]++
	}
}

// summary says how many findings there are and how severe, most severe
// first.
func (c *severityCounts) summary() string {
	n := 0
	for _, k := range c {
		n += k
	}
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

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
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
