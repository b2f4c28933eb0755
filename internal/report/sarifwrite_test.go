package report

import (
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
)

// marshalSARIFResult is how a result is written by reflection, at its
// depth in the log: the reference appendSARIFResult is held to.
func marshalSARIFResult(t testing.TB, r *sarifResult) string {
	t.Helper()
	out, err := jsonv2.Marshal(r, jsonv1.DefaultOptionsV1(), jsontext.WithIndentPrefix(sarifResultPrefix), jsontext.WithIndent("  "))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSARIFResultMatchesMarshal(t *testing.T) {
	cases := appenderFindings()
	for _, file := range []string{manifest.StdinName, "", "/abs/path.yaml", `C:\win\x.yaml`, "rel/a b.yaml"} {
		f := cases[2].f // full
		f.Location.File = file
		f.Location.Template = ""
		cases = append(cases, struct {
			name string
			f    finding.Finding
		}{"file " + file, f})
	}
	noColumn := cases[1].f
	noColumn.Location.Line = 3
	cases = append(cases, struct {
		name string
		f    finding.Finding
	}{"no column", noColumn})
	for _, tt := range cases {
		for _, index := range []int{0, 41} {
			t.Run(tt.name, func(t *testing.T) {
				r := sarifResultOf(tt.f, index)
				want := marshalSARIFResult(t, &r)
				if diff := cmp.Diff(want, string(appendSARIFResult(nil, sarifResultPrefix, &r))); diff != "" {
					t.Errorf("appendSARIFResult differs from Marshal (-marshal +appender):\n%s", diff)
				}
			})
		}
	}
	// Shapes sarifResultOf does not make: nil lists and maps, empty ones.
	for name, r := range map[string]sarifResult{
		"zero":        {},
		"empty lists": {Locations: []sarifLocation{{}}, PartialFingerprints: map[string]string{}, Properties: sarifResultProperty{Containers: []string{}}},
		"two keys":    {PartialFingerprints: map[string]string{"b": awkward, "a": "1"}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(marshalSARIFResult(t, &r), string(appendSARIFResult(nil, sarifResultPrefix, &r))); diff != "" {
				t.Errorf("appendSARIFResult differs from Marshal (-marshal +appender):\n%s", diff)
			}
		})
	}
}

// TestSARIFWriterKnowsEveryField fails when a result type gains, loses or
// reorders a field: appendSARIFResult must then change with it.
func TestSARIFWriterKnowsEveryField(t *testing.T) {
	for _, tt := range []struct {
		typ  any
		want []string
	}{
		{sarifResult{}, []string{"ruleId", "ruleIndex", "level", "message", "locations", "relatedLocations,omitempty", "partialFingerprints", "suppressions,omitempty", "properties"}},
		{sarifResultProperty{}, []string{"severity", "object", "path,omitempty", "containers,omitempty", "template,omitempty"}},
		{sarifLocation{}, []string{"id,omitempty", "physicalLocation,omitempty", "logicalLocations,omitempty", "message,omitempty"}},
		{sarifPhysicalLocation{}, []string{"artifactLocation", "region,omitempty"}},
		{sarifArtifactLocation{}, []string{"uri,omitempty", "uriBaseId,omitempty", "description,omitempty"}},
		{sarifRegion{}, []string{"startLine", "startColumn,omitempty"}},
		{sarifLogicalLocation{}, []string{"name", "fullyQualifiedName", "kind"}},
		{sarifSuppression{}, []string{"kind", "status", "justification,omitempty", "location,omitempty"}},
		{sarifMessage{}, []string{"text", "markdown,omitempty"}},
		{finding.ObjectRef{}, []string{"apiVersion", "kind", "namespace,omitempty", "name"}},
	} {
		typ := reflect.TypeOf(tt.typ)
		t.Run(typ.Name(), func(t *testing.T) {
			var got []string
			for f := range typ.Fields() {
				got = append(got, f.Tag.Get("json"))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JSON fields of %s changed; update sarifwrite.go and this test (-known +now):\n%s", typ, diff)
			}
		})
	}
}

// FuzzSARIFResult holds appendSARIFResult to Marshal on arbitrary strings
// and numbers.
func FuzzSARIFResult(f *testing.F) {
	f.Add("pss-privileged", "spec.containers[0]", "a.yaml", "app", 3, 5, true)
	f.Add(awkward, "", "", "", 0, 0, false)
	f.Add("\xed\xa0\x80", "\u2028<>&", manifest.StdinName, "\"", -1, 1, true)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, line, col int, suppressed bool) {
		fd := finding.Finding{
			CheckID: s1, Title: s2, Severity: finding.Severity(line % 7), Category: s3,
			Object:     finding.ObjectRef{APIVersion: s4, Kind: s1, Namespace: s2, Name: s3},
			Containers: strings.Fields(s4), Path: s2, Location: finding.Location{File: s3, Line: line, Column: col, Template: s4},
			Reason: s1, Detail: s2, Admission: strings.Split(s3, ","), Remediation: s4, DocURL: s1,
		}
		if suppressed {
			fd.Suppressed = &finding.Suppression{Kind: s2, Reason: s3, Location: &finding.Location{File: s4, Line: col}}
		}
		r := sarifResultOf(fd, line)
		if want, got := marshalSARIFResult(t, &r), string(appendSARIFResult(nil, sarifResultPrefix, &r)); want != got {
			t.Errorf("appendSARIFResult differs from Marshal:\nmarshal:  %q\nappender: %q", want, got)
		}
	})
}
