// Package checktest runs checks over YAML fixtures with inline expectations,
// in the manner of golang.org/x/tools/go/analysis/analysistest.
//
// A fixture directory holds, for each check under test, <id>.yaml, where the
// check must fire, and <id>_ok.yaml, the hardened pattern where it must not.
// An expectation is a comment on the line a finding must point at:
//
//	privileged: true  # want: pss-privileged
//
// Several IDs may be listed, separated by commas. Only the findings and
// expectations of the check a fixture is named for are compared. A finding
// on a line without a matching expectation fails the test, and so does an
// expectation no finding meets, a check without both fixtures, and a
// fixture named for no check under test.
package checktest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

var wantComment = regexp.MustCompile(`#\s*want:\s*([A-Za-z0-9_,\- ]+)\s*$`)

// DefaultOptions are the options Run uses: Pod Security Standards at
// restricted, latest, and no check parameters.
var DefaultOptions = check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}

// Run checks every fixture in dir against checks with DefaultOptions. Each
// fixture is scanned on its own: cross-object checks see the objects of
// that file only.
func Run(t *testing.T, dir string, checks []check.Check) {
	t.Helper()
	RunWith(t, dir, checks, DefaultOptions)
}

// RunWith is Run with options, for checks with parameters (keep such
// fixtures in a directory of their own).
func RunWith(t *testing.T, dir string, checks []check.Check, opts check.Options) {
	t.Helper()
	Fixtures(t, dir, checks, false, func(t *testing.T, path string) []finding.Finding {
		got, err := Scan(path, checks, opts)
		if err != nil {
			t.Fatal(err)
		}
		return got
	})
}

// Fixtures is the harness of Run for checks that something other than the
// engine evaluates (the RBAC analysis, say): scan returns the findings of
// one fixture file. Every check must have both fixtures and every fixture
// a check. When all is false, a fixture is held only to its own check's
// findings; when true, every finding scan returns must be expected.
func Fixtures(t *testing.T, dir string, checks []check.Check, all bool, scan func(t *testing.T, path string) []finding.Finding) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s", dir)
	}
	ids := map[string]bool{}
	for _, c := range checks {
		ids[c.ID] = true
		for _, suffix := range []string{".yaml", "_ok.yaml"} {
			if !slices.Contains(files, filepath.Join(dir, c.ID+suffix)) {
				t.Errorf("check %s has no fixture %s", c.ID, c.ID+suffix)
			}
		}
	}
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".yaml"), "_ok")
		if !ids[base] {
			t.Errorf("orphaned fixture %s: no check under test is named %s", f, base)
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := scan(t, f)
			want, err := expectations(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f, "_ok.yaml") && len(want) > 0 {
				t.Errorf("%s expects findings; an _ok fixture must expect none", f)
			}
			if !strings.HasSuffix(f, "_ok.yaml") && !slices.ContainsFunc(want, func(w expectation) bool { return w.id == base }) {
				t.Errorf("%s expects no finding of %s", f, base)
			}
			if !all {
				// A fixture is about its own check: findings and
				// expectations of the package's other checks on the same
				// lines are left to those checks' fixtures, so adding a
				// check never forces every other fixture to be rewritten.
				got = slices.DeleteFunc(got, func(f finding.Finding) bool { return f.CheckID != base })
				want = slices.DeleteFunc(want, func(w expectation) bool { return w.id != base })
			}
			for _, problem := range compare(got, want) {
				t.Error(problem)
			}
		})
	}
}

type expectation struct {
	line int
	id   string
}

func expectations(path string) ([]expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []expectation
	for i, l := range strings.Split(string(data), "\n") {
		m := wantComment.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		for _, id := range strings.Split(m[1], ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, expectation{line: i + 1, id: id})
			}
		}
	}
	return out, nil
}

// compare matches findings to expectations and describes every mismatch.
func compare(got []finding.Finding, want []expectation) []string {
	var problems []string
	matched := make([]bool, len(want))
	for _, f := range got {
		i := slices.IndexFunc(want, func(w expectation) bool { return w.id == f.CheckID && w.line == f.Location.Line })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("unexpected finding %s at line %d (%s): %s %s", f.CheckID, f.Location.Line, f.Path, f.Reason, f.Detail))
			continue
		}
		matched[i] = true
	}
	for i, w := range want {
		if !matched[i] {
			problems = append(problems, fmt.Sprintf("line %d: no finding of %s", w.line, w.id))
		}
	}
	return problems
}

// Scan runs checks over one file, with cross-object context from that file,
// and returns the findings of those checks only.
func Scan(path string, checks []check.Check, opts check.Options) ([]finding.Finding, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var objs []*object.Object
	for _, d := range manifest.Split(data) {
		os, errs := manifest.Parse(path, d)
		if len(errs) > 0 {
			return nil, fmt.Errorf("%v", errs)
		}
		objs = append(objs, os...)
	}
	needs := check.Needs(checks)
	var indexed []*object.Object
	for _, o := range objs {
		if slices.Contains(needs, o.Ref.Kind) {
			indexed = append(indexed, o)
		}
	}
	engine := check.NewEngine(checks, check.NewContext(opts, indexed))
	var out []finding.Finding
	for _, o := range objs {
		fs, err := engine.Run(o)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// ScanYAML writes text to a file of the given name in a temporary
// directory and scans it with checks as Scan does, at DefaultOptions,
// failing t on an error. It returns the findings and the file's path.
func ScanYAML(t testing.TB, name, text string, checks []check.Check) ([]finding.Finding, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := Scan(path, checks, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	return fs, path
}
