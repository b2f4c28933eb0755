package pss_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// fixtureDir is where the upstream module keeps its Pod Security fixtures:
// test/testdata/<level>/<version>/{pass,fail}/*.yaml, generated upstream
// from the same checks the API server runs.
func fixtureDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("locate k8s.io/pod-security-admission: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("upstream fixtures: %v", err)
	}
	return dir
}

type fixture struct {
	level, version, path string
	pass                 bool
}

func fixtures(t *testing.T) []fixture {
	dir := fixtureDir(t)
	var out []fixture
	for _, level := range []string{"baseline", "restricted"} {
		for minor := 0; minor <= 37; minor++ {
			version := "v1." + itoa(minor)
			for _, kind := range []string{"pass", "fail"} {
				files, err := filepath.Glob(filepath.Join(dir, level, version, kind, "*.yaml"))
				if err != nil || len(files) == 0 {
					t.Fatalf("no %s fixtures for %s %s", kind, level, version)
				}
				for _, f := range files {
					out = append(out, fixture{level: level, version: version, path: f, pass: kind == "pass"})
				}
			}
		}
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// scanFile runs the Pod Security checks over one file at a level and
// version and returns its objects and findings.
// metadataName is the line of a fixture's name: metadata's first level.
var metadataName = regexp.MustCompile(`(?m)^  name: .*$`)

func scanFile(t *testing.T, e *pss.Evaluator, path, level, version string) ([]*object.Object, []finding.Finding) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Some fixtures are named after their check (capabilities_baseline0),
	// which the API server refuses as an object name, and so does the
	// engine; the name plays no part in the verdict. test/e2e/podsecurity
	// renames them the same way before creating them.
	data = metadataName.ReplaceAllFunc(data, func(line []byte) []byte { return bytes.ReplaceAll(line, []byte("_"), []byte("-")) })
	lv, err := pss.LevelVersion(level, version)
	if err != nil {
		t.Fatal(err)
	}
	engine := check.NewEngine(pss.Checks(e), check.NewContext(check.Options{PodSecurity: &lv}, nil))
	var objs []*object.Object
	var fs []finding.Finding
	for _, d := range manifest.Split(data) {
		os, errs := manifest.Parse(path, d)
		if len(errs) > 0 {
			t.Fatalf("parse %s: %v", path, errs)
		}
		for _, o := range os {
			got, err := engine.Run(o)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			objs = append(objs, o)
			fs = append(fs, got...)
		}
	}
	return objs, fs
}

// expectedIDs are the check IDs a fail fixture named for check id may be
// reported under at a level and version: the check itself, or, at
// restricted, the restricted check that upstream declares overrides it
// (capabilities_restricted overrides capabilities_baseline, and so on).
func expectedIDs(id policy.CheckID, level, version string) []string {
	ids := []string{pss.ID(id)}
	if level != "restricted" {
		return ids
	}
	v, _ := api.ParseVersion(version)
	for _, c := range policy.DefaultChecks() {
		var active *policy.VersionedCheck
		for i := range c.Versions {
			if !v.Older(c.Versions[i].MinimumVersion) {
				active = &c.Versions[i]
			}
		}
		if active != nil && slices.Contains(active.OverrideCheckIDs, id) {
			ids = append(ids, pss.ID(c.ID))
		}
	}
	return ids
}

// fixtureCheck maps a fixture file name (runasnonroot0.yaml) to the
// upstream check it exercises, whose ID it spells in lower case.
func fixtureCheck(t *testing.T, path string) policy.CheckID {
	name := strings.TrimRight(strings.TrimSuffix(filepath.Base(path), ".yaml"), "0123456789")
	for _, c := range policy.DefaultChecks() {
		if strings.EqualFold(string(c.ID), name) {
			return c.ID
		}
	}
	if name == "procmount" {
		return "procMount"
	}
	t.Fatalf("fixture %s names no upstream check", path)
	return ""
}

// TestUpstreamFixtures is the parity proof: for every level and version of
// the fixtures shipped with the upstream module, every fail fixture yields
// a finding of the check it is named for, and no pass fixture yields any
// Pod Security finding.
func TestUpstreamFixtures(t *testing.T) {
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	all := fixtures(t)
	var passes, fails int
	for _, fx := range all {
		name := fx.level + "/" + fx.version + "/" + map[bool]string{true: "pass", false: "fail"}[fx.pass] + "/" + filepath.Base(fx.path)
		t.Run(name, func(t *testing.T) {
			objs, fs := scanFile(t, e, fx.path, fx.level, fx.version)
			if len(objs) != 1 {
				t.Fatalf("got %d objects, want 1", len(objs))
			}
			if fx.pass {
				passes++
				for _, f := range fs {
					t.Errorf("pass fixture got finding %s: %s: %s", f.CheckID, f.Reason, f.Detail)
				}
				return
			}
			fails++
			want := expectedIDs(fixtureCheck(t, fx.path), fx.level, fx.version)
			if !slices.ContainsFunc(fs, func(f finding.Finding) bool { return slices.Contains(want, f.CheckID) }) {
				var got []string
				for _, f := range fs {
					got = append(got, f.CheckID)
				}
				t.Errorf("fail fixture: want a finding of %v, got %v", want, got)
			}
			for _, f := range fs {
				if !strings.HasPrefix(f.CheckID, "pss-") || f.Reason == "" {
					t.Errorf("malformed finding %+v", f)
				}
			}
		})
	}
	if passes == 0 || fails == 0 {
		t.Fatalf("ran %d pass and %d fail fixtures", passes, fails)
	}
	t.Logf("%d pass and %d fail fixtures over 2 levels and 38 versions", passes, fails)
}
