package report

import (
	"bytes"
	stdcmp "cmp"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Fixture checks: real ones, plus a low and an info check so that every
// severity mapping shows in the golden files.
var (
	privileged = check.Check{
		ID: "pss-privileged", Title: "Privileged container", Severity: finding.Critical,
		Category:    "Pod Security Standards (baseline)",
		Rationale:   "Baseline: privileged Pods disable most security mechanisms and must be disallowed.",
		Remediation: "Remove securityContext.privileged, or set it to false.",
		DocURL:      "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
	}
	runAsNonRoot = check.Check{
		ID: "pss-runAsNonRoot", Title: "May run as root", Severity: finding.High,
		Category:    "Pod Security Standards (restricted)",
		Rationale:   "Restricted: containers must be required to run as non-root users.",
		Remediation: "Set in the pod or in every container:\n  securityContext:\n    runAsNonRoot: true",
		DocURL:      "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
	}
	readOnlyRoot = check.Check{
		ID: "read-only-root-filesystem", Title: "Writable root filesystem", Severity: finding.Medium,
		Category:    "Security context",
		Rationale:   "An immutable root filesystem stops an intruder from installing tools or changing binaries.",
		Remediation: "Set in the container, and mount an emptyDir where the application must write:\n  securityContext:\n    readOnlyRootFilesystem: true",
		DocURL:      "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
	}
	automount = check.Check{
		ID: "automount-service-account-token", Title: "Service account token mounted", Severity: finding.Low,
		Category:    "ServiceAccount",
		Rationale:   "Pods that do not call the API server should not carry a token that can.",
		Remediation: "Set automountServiceAccountToken: false in the pod spec.",
		DocURL:      "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
	}
	nsLabels = check.Check{
		ID: "namespace-pss-labels", Title: "Namespace without Pod Security labels", Severity: finding.Info,
		Category:    "Namespace",
		Rationale:   "Pod Security Admission enforces nothing in a namespace without labels.",
		Remediation: "Label the namespace:\n  pod-security.kubernetes.io/enforce: restricted",
		DocURL:      "https://kubernetes.io/docs/concepts/security/pod-security-admission/",
	}
	// expiredExemption is reported in fullReport but not listed among its
	// checks, as when the configuration disables it.
	expiredExemption = check.Check{
		ID: "expired-exemption", Title: "Exemption expired", Severity: finding.Medium,
		Category:    "kubeguard configuration",
		Remediation: "Fix the findings the exemption covered and delete it, or renew it:\n  exemptions:\n  - checks: [pss-privileged]\n    expires: 2027-06-30",
		DocURL:      "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
	}
)

var (
	web       = finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	webSvc    = finding.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "shop", Name: "web"}
	migrate   = finding.ObjectRef{APIVersion: "batch/v1", Kind: "Job", Namespace: "ci", Name: "migrate"}
	shopNS    = finding.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "shop"}
	debugPod  = finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "debug"}
	configRef = finding.ObjectRef{APIVersion: "kubeguard.io/v1", Kind: "Config", Name: ".kubeguard.yaml"}
)

func at(file string, line, col int) finding.Location {
	return finding.Location{File: file, Line: line, Column: col}
}

func found(c check.Check, obj finding.ObjectRef, loc finding.Location, path, reason, detail string, containers ...string) finding.Finding {
	return finding.Finding{
		CheckID: c.ID, Title: c.Title, Severity: c.Severity, Category: c.Category,
		Object: obj, Containers: containers, Path: path, Location: loc,
		Reason: reason, Detail: detail, Remediation: c.Remediation, DocURL: c.DocURL,
	}
}

// fullReport exercises every feature the formats render: Helm templates,
// absolute paths with spaces, standard input, a finding without a line,
// each kind of suppression, admission notes, text that needs escaping,
// a duplicated document, a finding about the configuration file (not a
// scanned object, and of a check not in the list) and input errors.
func fullReport() *Report {
	job := finding.Location{File: "rendered.yaml", Line: 3, Column: 1, Template: "mychart/templates/job.yaml"}
	jobAt := func(line, col int) finding.Location {
		l := job
		l.Line, l.Column = line, col
		return l
	}
	privWeb := found(privileged, web, at("deploy/app.yaml", 25, 13), "spec.template.spec.containers[0].securityContext.privileged",
		"privileged", `container "app" must not set securityContext.privileged=true`, "app")
	privWeb.Admission = []string{`namespace "shop" enforces restricted:latest: the API server would reject this Deployment's pods`}
	rootWeb := found(runAsNonRoot, web, at("deploy/app.yaml", 20, 7), "spec.template.spec.securityContext.runAsNonRoot",
		"runAsNonRoot != true", "pod or container \"app\" must set securityContext.runAsNonRoot=true", "app")
	rootWeb.Suppressed = &finding.Suppression{Kind: "annotation", Reason: "runs as root until OPS-12 lands",
		Location: &finding.Location{File: "deploy/app.yaml", Line: 6, Column: 5}}
	privJob := found(privileged, migrate, jobAt(20, 13), "spec.template.spec.containers[0].securityContext.privileged",
		"privileged", `container "migrate" must not set securityContext.privileged=true`, "migrate")
	privJob.Suppressed = &finding.Suppression{Kind: "baseline", Reason: "present in the baseline report"}
	rofsDebug := found(readOnlyRoot, debugPod, at("<stdin>", 14, 7), "spec.containers[0].securityContext.readOnlyRootFilesystem",
		"root filesystem is writable", `container "shell" does not set securityContext.readOnlyRootFilesystem=true`, "shell")
	rofsDebug.Suppressed = &finding.Suppression{Kind: "exemption", Reason: "debug pods are short-lived",
		Location: &finding.Location{File: ".kubeguard.yaml", Line: 12}}
	return &Report{
		Version: "1.2.3",
		Checks:  []check.Check{privileged, runAsNonRoot, readOnlyRoot, automount, nsLabels},
		Objects: []Object{
			{Ref: web, Location: at("deploy/app.yaml", 1, 1)},
			{Ref: webSvc, Location: at("deploy/app.yaml", 40, 1)},
			{Ref: web, Location: at("deploy/app.yaml", 60, 1)},
			{Ref: migrate, Location: job},
			{Ref: shopNS, Location: at("/srv/manifests/team a/ns.yaml", 1, 1)},
			{Ref: debugPod, Location: at("<stdin>", 1, 1)},
		},
		Findings: []finding.Finding{
			found(expiredExemption, configRef, at(".kubeguard.yaml", 7, 0), "",
				"exemption expired on 2026-01-31", "exemption for pss-privileged (legacy agent) no longer applies"),
			privWeb,
			found(readOnlyRoot, web, at("deploy/app.yaml", 22, 9), "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
				"root filesystem is writable", `container "app" does not set securityContext.readOnlyRootFilesystem=true`, "app"),
			found(readOnlyRoot, web, at("deploy/app.yaml", 31, 9), "spec.template.spec.containers[1].securityContext.readOnlyRootFilesystem",
				"root filesystem is writable", `container "sidecar" does not set securityContext.readOnlyRootFilesystem=true`, "sidecar"),
			rootWeb,
			found(readOnlyRoot, web, at("deploy/app.yaml", 70, 9), "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
				"root filesystem is writable", `container "worker" does not set securityContext.readOnlyRootFilesystem=true`, "worker"),
			found(automount, migrate, finding.Location{File: "rendered.yaml", Template: job.Template}, "spec.template.spec.automountServiceAccountToken",
				"service account token mounted", "the pod does not set automountServiceAccountToken: false"),
			privJob,
			found(nsLabels, shopNS, at("/srv/manifests/team a/ns.yaml", 4, 3), "metadata.labels",
				"no enforce label", `labels do not set pod-security.kubernetes.io/enforce (found "audit" <only> & "warn")`),
			found(runAsNonRoot, debugPod, at("<stdin>", 12, 7), "spec.containers[0].securityContext.runAsNonRoot",
				"runAsNonRoot != true", `container "shell" must set securityContext.runAsNonRoot=true`, "shell"),
			rofsDebug,
		},
		Errors: []finding.InputError{
			{Location: at("deploy/broken.yaml", 3, 0), Message: "yaml: mapping values are not allowed in this context"},
			{Location: finding.Location{File: "missing.yaml"}, Message: "open missing.yaml: no such file or directory"},
		},
	}
}

// cleanReport is a scan that found nothing wrong.
func cleanReport() *Report {
	return &Report{
		Version: "1.2.3",
		Checks:  []check.Check{privileged, readOnlyRoot},
		Objects: []Object{
			{Ref: webSvc, Location: at("deploy/svc.yaml", 1, 1)},
			{Ref: shopNS, Location: at("deploy/ns.yaml", 1, 1)},
		},
	}
}

var goldenCases = []struct {
	name   string
	report func() *Report
}{
	{"full", fullReport},
	{"clean", cleanReport},
}

var goldenOutputs = []struct {
	name, ext string
	out       Output
}{
	{"text", "txt", Text{}},
	{"text-color", "color.txt", Text{Color: true}},
	{"json", "json", JSON{}},
	{"sarif", "sarif", SARIF{}},
	{"junit", "junit.xml", JUnit{}},
}

// TestGolden compares every format's output with testdata/golden; run
// `go test ./internal/report -update` to rewrite the files after an
// intended change, and review the diff.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	want := map[string]bool{}
	for _, c := range goldenCases {
		for _, o := range goldenOutputs {
			name := c.name + "." + o.ext
			want[name] = true
			t.Run(c.name+"/"+o.name, func(t *testing.T) {
				var buf bytes.Buffer
				if err := o.out.Write(&buf, c.report()); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, name)
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				golden, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
				}
				if diff := cmp.Diff(string(golden), buf.String()); diff != "" {
					t.Errorf("%s differs from the golden file (-golden +got):\n%s", path, diff)
				}
			})
		}
	}
	t.Run("no orphans", func(t *testing.T) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !want[e.Name()] {
				t.Errorf("%s: no test writes this golden file; delete it", filepath.Join(dir, e.Name()))
			}
		}
	})
}

// TestWriteIsPure guards the golden files' meaning: writing must not
// change the report, and writing twice gives the same bytes.
func TestWriteIsPure(t *testing.T) {
	for _, o := range goldenOutputs {
		t.Run(o.name, func(t *testing.T) {
			r := fullReport()
			var a, b bytes.Buffer
			if err := o.out.Write(&a, r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(fullReport(), r, cmp.Comparer(func(a, b check.Check) bool { return a.ID == b.ID })); diff != "" {
				t.Errorf("Write changed the report (-before +after):\n%s", diff)
			}
			if err := o.out.Write(&b, r); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Error("two writes of the same report differ")
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		format  string
		color   bool
		want    Output
		wantErr string
	}{
		{format: "text", want: Text{}},
		{format: "text", color: true, want: Text{Color: true}},
		{format: "json", color: true, want: JSON{}},
		{format: "sarif", want: SARIF{}},
		{format: "junit", want: JUnit{}},
		{format: "xml", wantErr: `unknown format "xml" (want one of text, json, sarif, junit)`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got, err := New(tt.format, Options{Color: tt.color})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New(%q) error = %v, want %q", tt.format, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("New(%q) = %#v, want %#v", tt.format, got, tt.want)
			}
		})
	}
}

// TestReportHoldsNoObjectContent keeps reports free of object content by
// construction: a Report can hold only names, positions and the text
// checks wrote. A field that could carry a manifest (a map, an interface,
// raw bytes, a decoded object) fails here and needs a deliberate review
// against the no-secrets rule.
func TestReportHoldsNoObjectContent(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		if p := typ.PkgPath(); strings.Contains(p, "/internal/object") || strings.HasPrefix(p, "k8s.io/") {
			t.Errorf("%s: type %s can hold object content", path, typ)
			return
		}
		switch typ.Kind() {
		case reflect.String, reflect.Int, reflect.Bool:
		case reflect.Func:
			// Check.Run is code, not data.
		case reflect.Pointer:
			walk(typ.Elem(), path)
		case reflect.Slice:
			if typ.Elem().Kind() == reflect.Uint8 {
				t.Errorf("%s: raw bytes can hold object content", path)
				return
			}
			walk(typ.Elem(), path+"[]")
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				walk(f.Type, path+"."+f.Name)
			}
		default:
			t.Errorf("%s: %s (%s) can hold arbitrary content", path, typ, typ.Kind())
		}
	}
	walk(reflect.TypeFor[Report](), "Report")
}

// TestSortIsStable holds Sort to a stable sort by file, line, column and
// check ID on findings with many ties.
func TestSortIsStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := make([]finding.Finding, 2000)
	for i := range fs {
		fs[i] = finding.Finding{
			CheckID:  fmt.Sprint("check-", rng.IntN(3)),
			Location: finding.Location{File: fmt.Sprint("f", rng.IntN(3), ".yaml"), Line: rng.IntN(5), Column: rng.IntN(2)},
			Reason:   fmt.Sprint(i), // tells tied findings apart
		}
	}
	want := slices.Clone(fs)
	slices.SortStableFunc(want, func(a, b finding.Finding) int {
		return stdcmp.Or(stdcmp.Compare(a.Location.File, b.Location.File), stdcmp.Compare(a.Location.Line, b.Location.Line),
			stdcmp.Compare(a.Location.Column, b.Location.Column), stdcmp.Compare(a.CheckID, b.CheckID))
	})
	Sort(fs)
	for i := range fs {
		if fs[i].Reason != want[i].Reason {
			t.Fatalf("position %d holds finding %s, want %s", i, fs[i].Reason, want[i].Reason)
		}
	}
}
