package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// JUnit writes JUnit XML for CI systems that show test results: one test
// case per scanned object, failing when the object has findings that are
// not suppressed, and one erroring test case per input error.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitOutcome `xml:"failure,omitempty"`
	Error     *junitOutcome `xml:"error,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// junitText is CDATA so that reports stay readable: character data would
// carry every newline and quote as a character reference.
type junitText struct {
	Text string `xml:",cdata"`
}

type junitOutcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// Write implements Output.
func (JUnit) Write(w io.Writer, r *Report) error {
	suite := junitSuite{Name: "kubeguard"}
	if r.Version != "" {
		suite.Properties = []junitProperty{{Name: "kubeguard.version", Value: r.Version}}
	}
	for _, g := range byObject(r.Objects, r.Findings) {
		c := junitCase{Classname: junitClass(g.Object.Location), Name: g.Object.Ref.String()}
		var failed, suppressed []*finding.Finding
		for _, f := range g.Findings {
			if f.Suppressed != nil {
				suppressed = append(suppressed, f)
			} else {
				failed = append(failed, f)
			}
		}
		if len(failed) > 0 {
			top := failed[0].Severity
			var body strings.Builder
			for _, f := range failed {
				top = max(top, f.Severity)
				junitFinding(&body, f)
			}
			var counts severityCounts
			counts.add(failed)
			c.Failure = &junitOutcome{Message: counts.summary(), Type: top.String(), Body: xmlText(body.String())}
			suite.Failures++
		}
		if len(suppressed) > 0 {
			// Shown, so that a waiver is visible where the object is, but
			// not failed: suppressed findings never fail a scan.
			var out strings.Builder
			fmt.Fprintf(&out, "%s suppressed:\n", plural(len(suppressed), "finding"))
			for _, f := range suppressed {
				fmt.Fprintf(&out, "(%s", f.Suppressed.Kind)
				if f.Suppressed.Reason != "" {
					fmt.Fprintf(&out, ": %s", f.Suppressed.Reason)
				}
				out.WriteString(") ")
				junitFinding(&out, f)
			}
			c.SystemOut = &junitText{Text: xmlText(out.String())}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, e := range r.Errors {
		name := "input error"
		if e.Location.Line > 0 {
			name = fmt.Sprintf("input error at line %d", e.Location.Line)
		}
		suite.Cases = append(suite.Cases, junitCase{
			Classname: junitClass(e.Location),
			Name:      name,
			Error:     &junitOutcome{Message: e.Message, Type: "input-error", Body: xmlText(e.Error() + "\n")},
		})
		suite.Errors++
	}
	suite.Tests = len(suite.Cases)
	out := junitSuites{
		Name:     "kubeguard",
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Errors:   suite.Errors,
		Suites:   []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitClass is what CI systems group test cases by: the file, or for Helm
// output the template, which is the file a fix goes to.
func junitClass(l finding.Location) string {
	switch {
	case l.Template != "":
		return l.Template
	case l.File != "":
		return l.File
	}
	return "kubeguard"
}

func junitFinding(b *strings.Builder, f *finding.Finding) {
	fmt.Fprintf(b, "%s %s: %s\n", strings.ToUpper(f.Severity.String()), f.CheckID, f.Title)
	fmt.Fprintf(b, "  at %s", f.Location)
	if f.Path != "" {
		fmt.Fprintf(b, " %s", f.Path)
	}
	b.WriteString("\n  ")
	b.WriteString(f.Reason)
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	b.WriteString("\n")
	for _, a := range f.Admission {
		fmt.Fprintf(b, "  admission: %s\n", a)
	}
	if f.DocURL != "" {
		fmt.Fprintf(b, "  see %s\n", f.DocURL)
	}
}

// xmlText replaces what XML 1.0 cannot carry at all, even in CDATA
// (control characters from a malformed input, say), so that one odd byte
// does not make the whole report unreadable. Attributes need not pass
// here: the encoder already escapes them.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
