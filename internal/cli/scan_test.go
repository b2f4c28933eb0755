package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonReport is the part of the JSON report these tests read.
type jsonReport struct {
	Checks []struct {
		ID string
	}
	Summary struct {
		Objects, Findings, Errors int
	}
	Objects []struct {
		Object struct {
			Kind, Name string
		}
	}
	Findings []struct {
		CheckID  string
		Severity string
		Location struct {
			File     string
			Line     int
			Template string
		}
	}
	Errors []struct {
		Location struct {
			File string
			Line int
		}
		Message string
	}
}

func decodeReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return r
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const privilegedPod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: team
spec:
  containers:
  - name: c
    image: nginx:1.27
    securityContext:
      privileged: true
`

// TestExamples holds the README's promise about the bundled examples: the
// insecure shop fails the scan with findings of many areas, and its
// hardened twin has none at all.
func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	code, out, stderr := runCLI([]string{"scan", "-o", "json", filepath.Join(root, "insecure")}, "")
	if code != ExitFindings {
		t.Fatalf("insecure example: exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}
	seen := map[string]bool{}
	for _, f := range decodeReport(t, out).Findings {
		seen[f.CheckID] = true
	}
	for _, id := range []string{"pss-privileged", "sensitive-host-path", "namespace-pss-enforce", "service-exposed", "ingress-tls", "image-tag-latest"} {
		if !seen[id] {
			t.Errorf("insecure example: no %s finding", id)
		}
	}

	code, out, stderr = runCLI([]string{"scan", "-o", "json", "--fail-on", "low", filepath.Join(root, "hardened")}, "")
	r := decodeReport(t, out)
	if code != ExitOK || r.Summary.Findings != 0 || r.Summary.Errors != 0 {
		t.Fatalf("hardened example: exit %d, %d findings %+v, %d errors; stderr: %s", code, r.Summary.Findings, r.Findings, r.Summary.Errors, stderr)
	}
	if r.Summary.Objects < 10 {
		t.Errorf("hardened example: %d objects scanned, want the whole app", r.Summary.Objects)
	}
	// The report lists the checks that ran: a scan does not run the RBAC
	// checks (rbac risks does).
	for _, c := range r.Checks {
		if strings.HasPrefix(c.ID, "rbac-") {
			t.Errorf("scan report lists %s among the checks that ran", c.ID)
		}
	}
	if len(r.Checks) < 40 {
		t.Errorf("scan report lists %d checks, want the catalogue", len(r.Checks))
	}
}

func TestScanFailOn(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "pod.yaml", privilegedPod)
	for _, tc := range []struct {
		failOn string
		want   int
	}{
		{"critical", ExitFindings}, // privileged is critical
		{"high", ExitFindings},
		{"low", ExitFindings},
	} {
		t.Run(tc.failOn, func(t *testing.T) {
			if code, _, stderr := runCLI([]string{"scan", "--fail-on", tc.failOn, pod}, ""); code != tc.want {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.want, stderr)
			}
		})
	}
	// A pod whose only problems are below high passes at the default.
	mild := writeFile(t, dir, "mild.yaml", strings.Replace(privilegedPod, "privileged: true", "privileged: false", 1))
	code, out, _ := runCLI([]string{"scan", "-o", "json", "--level", "baseline", mild}, "")
	r := decodeReport(t, out)
	for _, f := range r.Findings {
		if f.Severity == "high" || f.Severity == "critical" {
			t.Fatalf("mild pod has a %s finding %s; the test needs one without", f.Severity, f.CheckID)
		}
	}
	if code != ExitOK || len(r.Findings) == 0 {
		t.Errorf("mild pod at --fail-on high: exit %d with %d findings, want 0 with some below high", code, len(r.Findings))
	}
}

// TestScanBadInput: an unparseable document, an object without a kind and
// a missing file are each an error naming file and line, in every format;
// the good file is still scanned; the exit status is 2 even with findings.
func TestScanBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", privilegedPod)
	bad := writeFile(t, dir, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n---\nmetadata:\n  name: nokind\n")
	missing := filepath.Join(dir, "missing.yaml")
	args := []string{good, bad, missing}

	code, out, stderr := runCLI(append([]string{"scan", "-o", "json"}, args...), "")
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	r := decodeReport(t, out)
	if r.Summary.Objects != 1 || len(r.Findings) == 0 {
		t.Errorf("good file not scanned: %d objects, %d findings", r.Summary.Objects, len(r.Findings))
	}
	type loc struct {
		File string
		Line int
	}
	var got []loc
	for _, e := range r.Errors {
		got = append(got, loc{e.Location.File, e.Location.Line})
		if !strings.Contains(stderr, e.Message) {
			t.Errorf("error %q not on stderr:\n%s", e.Message, stderr)
		}
	}
	want := []loc{{missing, 0}, {bad, 4}, {bad, 6}} // paths that cannot be opened come first
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	for _, format := range []string{"text", "sarif", "junit"} {
		t.Run(format, func(t *testing.T) {
			code, out, _ := runCLI(append([]string{"scan", "-o", format}, args...), "")
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			for _, name := range []string{"bad.yaml", "missing.yaml"} {
				if !strings.Contains(out, name) {
					t.Errorf("%s report does not name %s:\n%s", format, name, out)
				}
			}
		})
	}
}

func TestScanStdinAndHelmSource(t *testing.T) {
	helm := "---\n# Source: shop/templates/pod.yaml\n" + privilegedPod
	code, out, stderr := runCLI([]string{"scan", "-o", "json", "-"}, helm)
	if code != ExitFindings {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	for _, f := range decodeReport(t, out).Findings {
		if f.CheckID != "pss-privileged" {
			continue
		}
		if f.Location.File != "<stdin>" || f.Location.Template != "shop/templates/pod.yaml" || f.Location.Line != 13 {
			t.Errorf("location %+v, want <stdin>:13 from template shop/templates/pod.yaml", f.Location)
		}
		return
	}
	t.Fatal("no pss-privileged finding")
}

func TestScanOutputFile(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "pod.yaml", privilegedPod)
	report := filepath.Join(dir, "out", "report.sarif")
	if err := os.Mkdir(filepath.Dir(report), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI([]string{"scan", "-o", "sarif", "--output-file", report, pod}, "")
	if code != ExitFindings || out != "" {
		t.Fatalf("exit %d, stdout %q; want findings, and nothing on stdout", code, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"version": "2.1.0"`) {
		t.Errorf("not a SARIF 2.1.0 report:\n%.300s", b)
	}
}

func TestScanUsageErrors(t *testing.T) {
	pod := writeFile(t, t.TempDir(), "pod.yaml", privilegedPod)
	for _, tc := range []struct {
		name string
		args []string
		want string // on stderr
	}{
		{"no paths", []string{"scan"}, "no paths"},
		{"bad format", []string{"scan", "-o", "xml", pod}, "xml"},
		{"bad level", []string{"scan", "--level", "strict", pod}, "strict"},
		{"bad version", []string{"scan", "--pss-version", "1.99", pod}, "1.99"},
		{"bad fail-on", []string{"scan", "--fail-on", "severe", pod}, "severe"},
		{"unknown flag", []string{"scan", "--frobnicate", pod}, "frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args, "")
			if code != ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and a message naming %q", code, stderr, ExitError, tc.want)
			}
		})
	}
}
