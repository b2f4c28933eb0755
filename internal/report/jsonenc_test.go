package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// encoderBytes is what the writer produced before the appenders: one list
// element encoded by json.Encoder with the report's indentation, without
// the trailing newline Encode adds.
func encoderBytes(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// awkward holds strings every escaping rule of encoding/json applies to.
const awkward = "a\"b\\c\b\f\n\r\t\x00\x1f\x7f <tag> & \u2028\u2029 é 日本 \xff\xfe \xe2\x82 end"

// appenderLoc is a location with every field set.
var appenderLoc = finding.Location{File: "templates/x.yaml", Line: 12, Column: 7, Template: "chart/templates/x.yaml"}

// appenderFindings are findings the hand-written encoders are held to
// the reflective ones on: empty, full, suppressed, awkward.
func appenderFindings() []struct {
	name string
	f    finding.Finding
} {
	loc := appenderLoc
	return []struct {
		name string
		f    finding.Finding
	}{
		{name: "zero", f: finding.Finding{}},
		{name: "minimal", f: finding.Finding{CheckID: "pss-privileged", Severity: finding.Critical, Location: finding.Location{File: "a.yaml"}}},
		{name: "full", f: finding.Finding{
			CheckID: "pss-runAsNonRoot", Title: "May run as root", Severity: finding.High, Category: "Pod Security Standards (restricted)",
			Object:     finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "team-01", Name: "web"},
			Containers: []string{"app", "sidecar"}, Path: "spec.template.spec.containers[0].securityContext", Location: loc,
			Reason: "runAsNonRoot != true", Detail: `pod or container "app" must set securityContext.runAsNonRoot=true`,
			Admission:   []string{"enforce=restricted:latest: the API server would reject this Pod", "audit=restricted:latest"},
			Remediation: "Set at pod level:\n  securityContext:\n    runAsNonRoot: true", DocURL: "https://kubernetes.io/docs/?a=1&b=<2>",
			Suppressed: &finding.Suppression{Kind: "exemption", Reason: "legacy", Location: &finding.Location{File: ".kubeguard.yaml", Line: 3}},
		}},
		{name: "suppressed without reason or location", f: finding.Finding{CheckID: "x", Suppressed: &finding.Suppression{Kind: "baseline"}}},
		{name: "awkward strings", f: finding.Finding{
			CheckID: awkward, Title: awkward, Category: awkward, Object: finding.ObjectRef{APIVersion: awkward, Kind: awkward, Namespace: awkward, Name: awkward},
			Containers: []string{awkward, ""}, Path: awkward, Location: finding.Location{File: awkward, Line: -1, Column: 1 << 40, Template: awkward},
			Reason: awkward, Detail: awkward, Admission: []string{awkward}, Remediation: awkward, DocURL: awkward,
			Suppressed: &finding.Suppression{Kind: awkward, Reason: awkward, Location: &finding.Location{File: awkward, Template: awkward}},
		}},
		{name: "unknown severity", f: finding.Finding{Severity: finding.Severity(9)}},
		{name: "empty non-nil lists", f: finding.Finding{Containers: []string{}, Admission: []string{}}},
	}
}

func TestJSONAppendersMatchEncoder(t *testing.T) {
	loc := appenderLoc
	for _, tt := range appenderFindings() {
		t.Run("finding/"+tt.name, func(t *testing.T) {
			want := encoderBytes(t, tt.f)
			if diff := cmp.Diff(want, string(appendFinding(nil, &tt.f))); diff != "" {
				t.Errorf("appendFinding differs from json.Encoder (-encoder +appender):\n%s", diff)
			}
			for name, q := range quotesFor(&tt.f) {
				if diff := cmp.Diff(want, string(q.appendFinding(nil, &tt.f))); diff != "" {
					t.Errorf("appendFinding with the strings of %s differs from json.Encoder (-encoder +appender):\n%s", name, diff)
				}
			}
		})
	}
	for _, o := range []Object{{}, {Ref: finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Name: "p"}, Location: loc}} {
		t.Run("object", func(t *testing.T) {
			if diff := cmp.Diff(encoderBytes(t, o), string(appendObject(nil, &o))); diff != "" {
				t.Errorf("appendObject differs from json.Encoder (-encoder +appender):\n%s", diff)
			}
		})
	}
	for _, e := range []finding.InputError{{}, {Location: loc, Message: awkward}} {
		t.Run("error", func(t *testing.T) {
			if diff := cmp.Diff(encoderBytes(t, e), string(appendInputError(nil, &e))); diff != "" {
				t.Errorf("appendInputError differs from json.Encoder (-encoder +appender):\n%s", diff)
			}
		})
	}
}

// quotesFor returns the quoted check strings appendFinding may be given
// for f: those of f's own check, of a check of the same ID whose strings
// differ from f's, and of other checks only.
func quotesFor(f *finding.Finding) map[string]checkQuotes {
	same := check.Check{ID: f.CheckID, Title: f.Title, Category: f.Category, Remediation: f.Remediation, DocURL: f.DocURL}
	other := check.Check{ID: f.CheckID, Title: f.Title + "x", Category: "", Remediation: "<" + f.Remediation, DocURL: f.DocURL + "/"}
	return map[string]checkQuotes{
		"its check":         newCheckQuotes([]check.Check{{ID: f.CheckID + "-other"}, same}),
		"a check of its ID": newCheckQuotes([]check.Check{other}),
		"other checks":      newCheckQuotes([]check.Check{{ID: f.CheckID + "-other", Title: f.Title}}),
		"no checks":         newCheckQuotes(nil),
	}
}

// TestJSONAppendersKnowEveryField fails when one of the written types gains,
// loses or reorders a JSON field: the appenders must then change with it.
func TestJSONAppendersKnowEveryField(t *testing.T) {
	tests := []struct {
		typ  any
		want []string
	}{
		{finding.Finding{}, []string{"checkID", "title", "severity", "category", "object", "containers,omitempty", "path,omitempty", "location", "reason", "detail,omitempty", "admission,omitempty", "remediation", "docURL", "suppressed,omitempty"}},
		{finding.ObjectRef{}, []string{"apiVersion", "kind", "namespace,omitempty", "name"}},
		{finding.Location{}, []string{"file", "line,omitempty", "column,omitempty", "template,omitempty"}},
		{finding.Suppression{}, []string{"kind", "reason,omitempty", "location,omitempty"}},
		{finding.InputError{}, []string{"location", "message"}},
		{Object{}, []string{"object", "location"}},
	}
	for _, tt := range tests {
		checkJSONFields(t, tt.typ, tt.want, "jsonenc.go")
	}
}

// checkJSONFields fails when the JSON tags of typ's fields are not want,
// in order: the hand-written encoder in file must then change with them.
func checkJSONFields(t *testing.T, typ any, want []string, file string) {
	rt := reflect.TypeOf(typ)
	t.Run(rt.Name(), func(t *testing.T) {
		var got []string
		for f := range rt.Fields() {
			got = append(got, f.Tag.Get("json"))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("JSON fields of %s changed; update %s and this test (-known +now):\n%s", rt, file, diff)
		}
	})
}

// fuzzFinding is a finding of the fuzzers' strings and numbers.
func fuzzFinding(s1, s2, s3, s4 string, line, col int, suppressed bool) finding.Finding {
	fd := finding.Finding{
		CheckID: s1, Title: s2, Severity: finding.Severity(line % 7), Category: s3,
		Object:     finding.ObjectRef{APIVersion: s4, Kind: s1, Namespace: s2, Name: s3},
		Containers: strings.Fields(s4), Path: s2, Location: finding.Location{File: s3, Line: line, Column: col, Template: s4},
		Reason: s1, Detail: s2, Admission: strings.Split(s3, ","), Remediation: s4, DocURL: s1,
	}
	if suppressed {
		fd.Suppressed = &finding.Suppression{Kind: s2, Reason: s3, Location: &finding.Location{File: s4, Line: col}}
	}
	return fd
}

// FuzzJSONAppenders holds the appenders to json.Encoder on arbitrary
// strings and numbers.
func FuzzJSONAppenders(f *testing.F) {
	f.Add("pss-privileged", "spec.containers[0]", "a.yaml", "app", 3, 5, true)
	f.Add(awkward, "", "", "", 0, 0, false)
	f.Add("\xed\xa0\x80", "\u2028<>&", "\x00", "\"", -1, 1, true)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, line, col int, suppressed bool) {
		fd := fuzzFinding(s1, s2, s3, s4, line, col, suppressed)
		want := encoderBytes(t, fd)
		if got := string(appendFinding(nil, &fd)); want != got {
			t.Errorf("appendFinding differs from json.Encoder:\nencoder:  %q\nappender: %q", want, got)
		}
		for name, q := range quotesFor(&fd) {
			if got := string(q.appendFinding(nil, &fd)); want != got {
				t.Errorf("appendFinding with the strings of %s differs from json.Encoder:\nencoder:  %q\nappender: %q", name, want, got)
			}
		}
		e := finding.InputError{Location: fd.Location, Message: s1 + s2}
		if want, got := encoderBytes(t, e), string(appendInputError(nil, &e)); want != got {
			t.Errorf("appendInputError differs from json.Encoder:\nencoder:  %q\nappender: %q", want, got)
		}
	})
}
