package report

import (
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
				if diff := cmp.Diff(want, string(appendSARIFResult(nil, &r))); diff != "" {
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
			if diff := cmp.Diff(marshalSARIFResult(t, &r), string(appendSARIFResult(nil, &r))); diff != "" {
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
		checkJSONFields(t, tt.typ, tt.want, "sarifwrite.go")
	}
}

// FuzzSARIFResult holds appendSARIFResult to Marshal on arbitrary strings
// and numbers.
func FuzzSARIFResult(f *testing.F) {
	f.Add("pss-privileged", "spec.containers[0]", "a.yaml", "app", 3, 5, true)
	f.Add(awkward, "", "", "", 0, 0, false)
	f.Add("\xed\xa0\x80", "\u2028<>&", manifest.StdinName, "\"", -1, 1, true)
	f.Fuzz(func(t *testing.T, s1, s2, s3, s4 string, line, col int, suppressed bool) {
		r := sarifResultOf(fuzzFinding(s1, s2, s3, s4, line, col, suppressed), line)
		if want, got := marshalSARIFResult(t, &r), string(appendSARIFResult(nil, &r)); want != got {
			t.Errorf("appendSARIFResult differs from Marshal:\nmarshal:  %q\nappender: %q", want, got)
		}
	})
}
