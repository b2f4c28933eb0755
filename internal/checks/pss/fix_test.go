package pss

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/manifest"
	"k8s.io/pod-security-admission/api"
)

// applyOps applies a fix's changes to a JSON-shaped value by path, list
// items by index, as the patch it renders does by merge key.
func applyOps(t *testing.T, doc any, ops []op) {
	t.Helper()
	for _, x := range ops {
		cur := doc
		for i, e := range x.Path {
			last := i == len(x.Path)-1
			if e.Key == "" {
				l, ok := cur.([]any)
				if !ok || e.Index >= len(l) {
					t.Fatalf("fix path %s: no list item %d", x.Path, e.Index)
				}
				cur = l[e.Index]
				continue
			}
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("fix path %s: %s is not in a mapping", x.Path, e.Key)
			}
			if last {
				if x.Remove {
					delete(m, e.Key)
				} else {
					b, _ := json.Marshal(x.Value)
					var v any
					json.Unmarshal(b, &v)
					m[e.Key] = v
				}
				break
			}
			next, ok := m[e.Key]
			if !ok || next == nil {
				next = map[string]any{}
				m[e.Key] = next
			}
			cur = next
		}
	}
}

// TestFixesFix applies every fix kubeguard writes for each upstream fail
// fixture, at the fixture's level and version, and holds the result to the
// upstream evaluator: the fixed pod passes. A fix that only looks right
// (a pod-level seccomp profile under a container's Unconfined, runAsNonRoot
// without a user) fails here.
func TestFixesFix(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
	e, err := NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	fixed, unfixable := 0, map[string]int{}
	for _, level := range []string{"baseline", "restricted"} {
		for minor := 0; minor <= 37; minor++ {
			version := "v1." + strconv.Itoa(minor)
			lv, err := LevelVersion(level, version)
			if err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, level, version, "fail", "*.yaml"))
			for _, path := range files {
				fixed += fixFile(t, e, path, lv, unfixable)
			}
		}
	}
	// The real-world corpus, at the default level: every workload of it
	// that fails is fixed too.
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "cli", "testdata", "corpus", "*", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "cli", "testdata", "corpus", "*", "*", "*.yaml"))
	lv, _ := LevelVersion("restricted", "latest")
	corpusFixed := 0
	for _, path := range append(corpus, more...) {
		corpusFixed += fixFile(t, e, path, lv, unfixable)
	}
	if corpusFixed < 15 {
		t.Errorf("%d corpus workloads fixed; want the corpus's", corpusFixed)
	}
	if fixed < 500 {
		t.Errorf("%d fixtures fixed; the upstream set has many more", fixed)
	}
	if len(unfixable) > 0 {
		t.Errorf("verdicts without a fix, by check: %v", unfixable)
	}
}

// fixFile applies the fixes of every Pod Security verdict on each workload
// of a file at lv and checks that the result passes; it returns the number
// of workloads it fixed and counts verdicts without a fix in unfixable.
func fixFile(t *testing.T, e *Evaluator, path string, lv api.LevelVersion, unfixable map[string]int) int {
	t.Helper()
	fixed := 0
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range manifest.Split(data) {
		objs, errs := manifest.Parse(path, d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, o := range objs {
			tmpl, err := o.PodTemplate()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if tmpl == nil {
				continue
			}
			var ops []op
			results := withOverridden(e.Pod(&tmpl.Metadata, &tmpl.Spec))(lv)
			if len(results) == 0 {
				continue
			}
			for _, r := range results {
				o := fixOps(o, r.ID, tmpl, locate(r.ID, tmpl, r.Detail))
				if len(o) == 0 {
					unfixable[string(r.ID)]++
				}
				ops = append(ops, o...)
			}
			b, err := o.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			applyOps(t, doc, ops)
			b, _ = json.Marshal(doc)
			again, errs := manifest.Parse(path, manifest.Split(b)[0])
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			tmpl2, err := again[0].PodTemplate()
			if err != nil {
				t.Fatal(err)
			}
			left := e.Evaluate(lv, &tmpl2.Metadata, &tmpl2.Spec)
			if lv.Level == api.LevelRestricted {
				left = append(left, e.Evaluate(api.LevelVersion{Level: api.LevelBaseline, Version: lv.Version}, &tmpl2.Metadata, &tmpl2.Spec)...)
			}
			if len(left) > 0 {
				t.Errorf("%s %s at %s: after the fixes still fails %s: %s\nfixed: %s", filepath.Base(path), o.Ref, lv, left[0].ID, left[0].Detail, b)
				continue
			}
			fixed++
		}
	}
	return fixed
}
