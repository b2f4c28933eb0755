package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
)

// TestReportsShowNoObjectContent scans manifests full of marked values
// (Secret data, env values, commands, labels, annotations, a malformed
// document) through the real scan and writes every format: each finding's
// reason and detail must be there, and no marked value anywhere. Reports
// carry what checks wrote about an object, never the object.
func TestReportsShowNoObjectContent(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	src := &manifest.Source{Paths: []string{filepath.Join("testdata", "leak", "manifests.yaml")}}
	r := run.ScanReport(context.Background(), src, all, check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}, 1, nil)
	r.Version = "test"
	if len(r.Findings) == 0 || len(r.Errors) == 0 {
		t.Fatalf("the fixture must give findings and an input error; got %d findings, %d errors", len(r.Findings), len(r.Errors))
	}
	// The checks that read values, or sit next to them, must each have a
	// finding here for the test to prove anything about them.
	for _, id := range []string{
		"secret-in-manifest", "hardcoded-credential", "secret-env-var", "secret-volume-all-containers",
		"service-account-legacy-token", "service-account-mountable-secrets", "service-account-token-automount",
	} {
		if !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.CheckID == id }) {
			t.Errorf("the fixture gives no finding of %s", id)
		}
	}
	markers := []string{"LEAKMARK", "TEVBS01BUks"}
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			out, err := report.New(format, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := out.Write(&buf, r); err != nil {
				t.Fatal(err)
			}
			text := decoded(t, format, buf.Bytes())
			for _, m := range markers {
				if strings.Contains(buf.String(), m) || strings.Contains(text, m) {
					t.Errorf("object content %q in the %s report", m, format)
				}
			}
			for _, f := range r.Findings {
				for _, want := range []string{f.Reason, f.Detail} {
					if !strings.Contains(text, want) {
						t.Errorf("%s of %s: %q missing from the %s report", f.CheckID, f.Object, want, format)
					}
				}
			}
			for _, e := range r.Errors {
				if !strings.Contains(text, e.Message) {
					t.Errorf("input error %q missing from the %s report", e.Message, format)
				}
			}
			if format == "sarif" {
				if err := report.ValidateSARIF(t, buf.Bytes()); err != nil {
					t.Errorf("not valid SARIF 2.1.0:\n%v", err)
				}
			}
		})
	}
}

// decoded returns every string a report holds, unescaped, one per line,
// so that text can be looked for whatever the format's quoting.
func decoded(t *testing.T, format string, data []byte) string {
	t.Helper()
	var b strings.Builder
	switch format {
	case "json", "sarif":
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				b.WriteString(v + "\n")
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					b.WriteString(k + "\n")
					walk(e)
				}
			}
		}
		walk(v)
	case "junit":
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				for _, a := range tok.Attr {
					b.WriteString(a.Value + "\n")
				}
			case xml.CharData:
				b.Write(tok)
				b.WriteString("\n")
			}
		}
	default:
		b.Write(data)
	}
	return b.String()
}
