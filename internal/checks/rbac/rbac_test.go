package rbac_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	rbacchecks "github.com/kubeguard/kubeguard/internal/checks/rbac"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
)

func TestRegistry(t *testing.T) {
	if err := check.Validate(rbacchecks.Checks); err != nil {
		t.Fatal(err)
	}
	for _, c := range rbacchecks.Checks {
		if c.Category != rbacchecks.Category || c.Run != nil || len(c.Kinds) > 0 {
			t.Errorf("check %s: want category %s and no kinds or Run (the analysis runs it)", c.ID, rbacchecks.Category)
		}
		if _, err := os.Stat(c.ID + ".go"); err != nil {
			t.Errorf("check %s: %v", c.ID, err)
		}
	}
}

var wantComment = regexp.MustCompile(`#\s*want:\s*([A-Za-z0-9_,\- ]+)\s*$`)

type expectation struct {
	line int
	id   string
}

// TestFixtures runs the RBAC analysis over each fixture on its own, the
// checktest way: <id>.yaml must fire <id> where a "# want: <id>" comment
// says, <id>_ok.yaml must fire nothing, and every finding of any RBAC
// check must be expected.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures")
	}
	ids := map[string]bool{}
	for _, c := range rbacchecks.Checks {
		ids[c.ID] = true
		for _, suffix := range []string{".yaml", "_ok.yaml"} {
			if !slices.Contains(files, filepath.Join("testdata", c.ID+suffix)) {
				t.Errorf("check %s has no fixture %s", c.ID, c.ID+suffix)
			}
		}
	}
	for _, f := range files {
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".yaml"), "_ok")
		if !ids[base] {
			t.Errorf("orphaned fixture %s", f)
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var b rbac.Builder
			for _, d := range manifest.Split(data) {
				objs, errs := manifest.Parse(f, d)
				if len(errs) > 0 {
					t.Fatal(errs)
				}
				for _, o := range objs {
					b.Add(o)
				}
			}
			p := b.Build()
			for _, e := range append(p.Problems, p.Warnings...) {
				t.Errorf("input problem: %s", e.Error())
			}
			want := expectations(data)
			ok := strings.HasSuffix(f, "_ok.yaml")
			if ok && len(want) > 0 {
				t.Errorf("an _ok fixture must expect no finding")
			}
			if !ok && !slices.ContainsFunc(want, func(w expectation) bool { return w.id == base }) {
				t.Errorf("expects no finding of %s", base)
			}
			for _, problem := range compare(rbac.Risks(p), want) {
				t.Error(problem)
			}
		})
	}
}

func expectations(data []byte) []expectation {
	var out []expectation
	for i, l := range strings.Split(string(data), "\n") {
		if m := wantComment.FindStringSubmatch(l); m != nil {
			for _, id := range strings.Split(m[1], ",") {
				if id = strings.TrimSpace(id); id != "" {
					out = append(out, expectation{i + 1, id})
				}
			}
		}
	}
	return out
}

func compare(got []finding.Finding, want []expectation) []string {
	var problems []string
	matched := make([]bool, len(want))
	for _, f := range got {
		i := slices.IndexFunc(want, func(w expectation) bool { return w.id == f.CheckID && w.line == f.Location.Line })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("unexpected finding %s at line %d (%s): %s; %s", f.CheckID, f.Location.Line, f.Path, f.Reason, f.Detail))
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
