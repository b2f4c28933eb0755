package report

import (
	"bytes"
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
	XMLName   xml.Name      `xml:"testcase"`
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
func (j JUnit) Write(w io.Writer, r *Report) error { return writeWhole(j, w, r) }

func (JUnit) encoder(*Head) encoder { return junitEncoder{} }

// junitEncoder writes the test cases of the scanned objects to the spool
// as the scan goes, and the document around them at the end, when its
// counts are known. Each case is encoded on its own, indented as within
// the document, so that the bytes are the encoder's for the whole.
type junitEncoder struct{}

// junitCaseIndent is the indentation of a test case: in a suite, in the
// document's suites.
const junitCaseIndent = "    "

// head sends the parts to the spool.
func (junitEncoder) head(s *Stream) error {
	s.list = list{w: &s.spool}
	return nil
}

func (junitEncoder) part(b []byte, o *Object, fs []finding.Finding) []byte {
	return appendJUnitCase(b, junitCaseOf(o, pointers(fs)))
}

// object appends nothing: objects are test cases, written as parts.
func (junitEncoder) object(b []byte, _ *Object) []byte { return b }

func (junitEncoder) tail(s *Stream) error {
	groups := byObject(s.h.Objects, s.h.Findings)
	var cases []byte
	for _, g := range groups {
		cases = appendJUnitCase(cases, junitCaseOf(&g.Object, g.Findings))
	}
	for _, e := range s.errors {
		name := "input error"
		if e.Location.Line > 0 {
			name = fmt.Sprintf("input error at line %d", e.Location.Line)
		}
		cases = appendJUnitCase(cases, junitCase{
			Classname: junitClass(e.Location),
			Name:      name,
			Error:     &junitOutcome{Message: e.Message, Type: "input-error", Body: xmlText(e.Error() + "\n")},
		})
	}
	sum := s.Summary()
	suite := junitSuite{
		Name:     "kubeguard",
		Tests:    sum.Objects - len(s.h.Objects) + len(groups) + sum.Errors,
		Failures: s.failing + failing(groups),
		Errors:   sum.Errors,
	}
	if s.h.Version != "" {
		suite.Properties = []junitProperty{{Name: "kubeguard.version", Value: s.h.Version}}
	}
	if s.h.Config != "" {
		suite.Properties = append(suite.Properties, junitProperty{Name: "kubeguard.config", Value: s.h.Config})
	}
	doc, err := xml.MarshalIndent(junitSuites{
		Name: "kubeguard", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Suites: []junitSuite{suite},
	}, "", "  ")
	if err != nil {
		return err
	}
	// The cases go at the end of the suite: before its end tag, on a line
	// of its own when the suite holds properties, and after its start tag
	// when it holds nothing else.
	at := bytes.LastIndex(doc, []byte("</testsuite>"))
	w := s.out()
	w.WriteString(xml.Header)
	if bytes.HasSuffix(doc[:at], []byte("\n  ")) {
		at -= len("\n  ")
	}
	w.Write(doc[:at])
	if err := s.spool.copyTo(w); err != nil {
		return err
	}
	w.Write(cases)
	if doc[at] == '<' && (s.wrote || len(cases) > 0) {
		w.WriteString("\n  ")
	}
	w.Write(doc[at:])
	_, err = w.WriteString("\n")
	return err
}

// junitCaseOf makes the test case of an object and its findings.
func junitCaseOf(o *Object, fs []*finding.Finding) junitCase {
	c := junitCase{Classname: junitClass(o.Location), Name: o.Ref.String()}
	var failed, suppressed []*finding.Finding
	for _, f := range fs {
		if active(f) {
			failed = append(failed, f)
		} else {
			suppressed = append(suppressed, f)
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
	return c
}

// appendJUnitCase appends a test case on a line of its own, as the
// encoder indents it within the document.
func appendJUnitCase(b []byte, c junitCase) []byte {
	out, err := xml.MarshalIndent(c, junitCaseIndent, "  ")
	if err != nil {
		// Only strings and ints: nothing the encoder refuses.
		panic(fmt.Sprintf("report: junit test case: %v", err))
	}
	b = append(b, '\n')
	return append(b, out...)
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
	// Written piece by piece: fmt was most of what a test case cost.
	for _, s := range [...]string{strings.ToUpper(f.Severity.String()), " ", f.CheckID, ": ", f.Title, "\n  at ", f.Location.String()} {
		b.WriteString(s)
	}
	if f.Path != "" {
		b.WriteString(" ")
		b.WriteString(f.Path)
	}
	b.WriteString("\n  ")
	b.WriteString(f.Reason)
	if f.Detail != "" {
		b.WriteString(": ")
		b.WriteString(f.Detail)
	}
	b.WriteString("\n")
	for _, a := range f.Admission {
		b.WriteString("  admission: ")
		b.WriteString(a)
		b.WriteString("\n")
	}
	if f.DocURL != "" {
		b.WriteString("  see ")
		b.WriteString(f.DocURL)
		b.WriteString("\n")
	}
}

// xmlText replaces what XML 1.0 cannot carry at all, even in CDATA
// (control characters from a malformed input, say), so that one odd byte
// does not make the whole report unreadable. Attributes need not pass
// here: the encoder already escapes them.
func xmlText(s string) string {
	if xmlSafeASCII(s) {
		return s // the usual case, without decoding a rune
	}
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

// xmlSafeASCII reports whether s is printable ASCII, tabs and line breaks
// only: text xmlText leaves as it is.
func xmlSafeASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f {
			return false
		}
	}
	return true
}
