package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// JUnit as CI systems read it; declared here rather than reusing the
// writer's types so that the test checks the XML, not the structs.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// junitCaseSummary is one test case reduced to what the test compares.
type junitCaseSummary struct {
	Class, Name string
	// Outcome is "pass", "failure: <message>" or "error: <message>".
	Outcome string
}

func TestJUnit(t *testing.T) {
	tests := []struct {
		name                  string
		report                *Report
		tests, failures, errs int
		cases                 []junitCaseSummary
	}{
		{
			name: "full", report: fullReport(), tests: 9, failures: 6, errs: 2,
			cases: []junitCaseSummary{
				{"deploy/app.yaml", "Deployment/shop/web", "failure: 3 findings (1 critical, 2 medium)"},
				{"deploy/app.yaml", "Service/shop/web", "pass"},
				{"deploy/app.yaml", "Deployment/shop/web", "failure: 1 finding (1 medium)"},
				{"mychart/templates/job.yaml", "Job/ci/migrate", "failure: 1 finding (1 low)"},
				{"/srv/manifests/team a/ns.yaml", "Namespace/shop", "failure: 1 finding (1 info)"},
				{"<stdin>", "Pod/default/debug", "failure: 1 finding (1 high)"},
				{".kubeguard.yaml", "Config/.kubeguard.yaml", "failure: 1 finding (1 medium)"},
				{"deploy/broken.yaml", "input error at line 3", "error: yaml: mapping values are not allowed in this context"},
				{"missing.yaml", "input error", "error: open missing.yaml: no such file or directory"},
			},
		},
		{
			name: "clean", report: cleanReport(), tests: 2,
			cases: []junitCaseSummary{
				{"deploy/svc.yaml", "Service/shop/web", "pass"},
				{"deploy/ns.yaml", "Namespace/shop", "pass"},
			},
		},
		{
			name: "only suppressed findings pass", tests: 1,
			report: func() *Report {
				r := cleanReport()
				r.Objects = r.Objects[:1]
				f := found(privileged, webSvc, at("deploy/svc.yaml", 3, 1), "", "privileged", "")
				f.Suppressed = &finding.Suppression{Kind: "baseline"}
				r.Findings = []finding.Finding{f}
				return r
			}(),
			cases: []junitCaseSummary{{"deploy/svc.yaml", "Service/shop/web", "pass"}},
		},
		{
			name: "nothing readable", tests: 1, errs: 1,
			report: &Report{Errors: []finding.InputError{{Location: finding.Location{File: "a.yaml"}, Message: "bad \x00 byte"}}},
			cases:  []junitCaseSummary{{"a.yaml", "input error", "error: bad \uFFFD byte"}},
		},
		{name: "empty", report: &Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := (JUnit{}).Write(&buf, tt.report); err != nil {
				t.Fatal(err)
			}
			var doc junitDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("output is not XML: %v\n%s", err, buf.String())
			}
			if len(doc.Suites) != 1 || doc.Suites[0].Name != "kubeguard" {
				t.Fatalf("want one test suite named kubeguard, got %d", len(doc.Suites))
			}
			s := doc.Suites[0]
			counts := [][3]int{{doc.Tests, doc.Failures, doc.Errors}, {s.Tests, s.Failures, s.Errors}}
			want := [3]int{tt.tests, tt.failures, tt.errs}
			for _, got := range counts {
				if got != want {
					t.Errorf("tests, failures, errors = %v, want %v", got, want)
				}
			}
			var got []junitCaseSummary
			failures, errs := 0, 0
			for _, c := range s.Cases {
				sum := junitCaseSummary{Class: c.Classname, Name: c.Name, Outcome: "pass"}
				switch {
				case c.Failure != nil && c.Error != nil:
					t.Errorf("%s: both failure and error", c.Name)
				case c.Failure != nil:
					sum.Outcome = "failure: " + c.Failure.Message
					failures++
				case c.Error != nil:
					sum.Outcome = "error: " + c.Error.Message
					errs++
				}
				got = append(got, sum)
			}
			if len(s.Cases) != s.Tests || failures != s.Failures || errs != s.Errors {
				t.Errorf("attributes say %d/%d/%d, elements are %d/%d/%d", s.Tests, s.Failures, s.Errors, len(s.Cases), failures, errs)
			}
			if diff := cmp.Diff(tt.cases, got); diff != "" {
				t.Errorf("test cases (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJUnitFailureListsEveryFinding: a failure body names each finding of
// its object that is not suppressed, with its location and reason, and
// the suppressed ones are in system-out instead.
func TestJUnitFailureListsEveryFinding(t *testing.T) {
	r := fullReport()
	var buf bytes.Buffer
	if err := (JUnit{}).Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	cases := doc.Suites[0].Cases
	for _, g := range byObject(r.Objects, r.Findings) {
		i := 0
		for i < len(cases) && (cases[i].Name != g.Object.Ref.String() || cases[i].Classname != junitClass(g.Object.Location)) {
			i++
		}
		if i == len(cases) {
			t.Errorf("no test case for %s", g.Object.Ref)
			continue
		}
		c := cases[i]
		cases = cases[i+1:]
		for _, f := range g.Findings {
			text := c.SystemOut
			if f.Suppressed == nil {
				if c.Failure == nil {
					t.Errorf("%s: no failure for %s", c.Name, f.CheckID)
					continue
				}
				text = c.Failure.Body
			}
			for _, want := range []string{strings.ToUpper(f.Severity.String()) + " " + f.CheckID, f.Location.String(), f.Reason + ": " + f.Detail} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: %q missing from\n%s", c.Name, want, text)
				}
			}
		}
	}
}

// TestJUnitEmpty: a report with nothing in it, not even a version, is
// the document the encoder writes for an empty suite.
func TestJUnitEmpty(t *testing.T) {
	var b strings.Builder
	if err := (JUnit{}).Write(&b, &Report{}); err != nil {
		t.Fatal(err)
	}
	doc, err := xml.MarshalIndent(junitSuites{Name: "kubeguard", Suites: []junitSuite{{Name: "kubeguard"}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := xml.Header + string(doc) + "\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestXMLText holds the ASCII shortcut of xmlText to the rune-by-rune
// replacement it skips.
func TestXMLText(t *testing.T) {
	ref := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF {
				return r
			}
			return '\uFFFD'
		}, s)
	}
	for _, s := range []string{"", "plain text\n\tand\r\n", "nul \x00 here", "del \x7f", "bell \a", "é 日本", "\xff\xfe", "\uFFFE", "\U0001F600", awkward} {
		if got, want := xmlText(s), ref(s); got != want {
			t.Errorf("xmlText(%q) = %q, want %q", s, got, want)
		}
	}
}
