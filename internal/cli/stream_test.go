package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/corpus"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
	"k8s.io/pod-security-admission/api"
)

// TestScanStreamsAsWhole holds the streamed report to the whole one: a
// scan written as it goes, on many workers, gives the bytes of the same
// scan kept whole and written at the end, in every format that streams,
// with input errors, suppressed findings and an expired exemption in it.
func TestScanStreamsAsWhole(t *testing.T) {
	dir := t.TempDir()
	if _, err := corpus.Write(dir, corpus.Options{N: 400, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "broken.yaml", privilegedPod+"---\nmetadata: [\n---\nkind: Pod\n")
	writeFile(t, dir, "empty.yaml", "")
	writeFile(t, dir, "ignored.yaml", strings.Replace(privilegedPod, "  namespace: team\n",
		"  namespace: team\n  annotations:\n    kubeguard.io/ignore: \"pss-privileged -- test\"\n", 1))
	if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	config := writeFile(t, t.TempDir(), ".kubeguard.yaml",
		"exemptions:\n- checks: [pss-privileged]\n  namespace: team\n  reason: migrating\n  expires: 2020-01-31\n")
	paths := []string{dir, filepath.Join(dir, "missing.yaml")}

	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	o := &ScanOptions{Paths: paths, Config: config}
	p, err := planFor(run.FrontScan, o.settings(&lv, paths))
	if err != nil {
		t.Fatal(err)
	}
	// The whole report, kept and written at the end, on one worker.
	r := run.ScanReport(context.Background(), &manifest.Source{Paths: paths}, p.Checks, p.Options, 1, p.Filter)
	r.Version = version()
	wholeSum := report.Summarize(r)
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			out, err := report.New(format, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var whole, w, stderr bytes.Buffer
			if err := out.Write(&whole, r); err != nil {
				t.Fatal(err)
			}
			sum, err := scanTo(context.Background(), &manifest.Source{Paths: paths}, p, 8, out, &w, &stderr)
			if err != nil {
				t.Fatal(err)
			}
			streamed := w.String()
			if diff := cmp.Diff(whole.String(), streamed); diff != "" {
				t.Errorf("streamed report differs from the whole one (-whole +streamed):\n%s", diff)
			}
			if diff := cmp.Diff(wholeSum, sum); diff != "" {
				t.Errorf("summary (-whole +streamed):\n%s", diff)
			}
			if sum.Errors != 4 || sum.Suppressed == ([5]int{}) || sum.Objects < 400 {
				t.Errorf("summary %+v: want 4 input errors, suppressed findings and every object", sum)
			}
		})
	}

	// The objects come in input order: files in the order of the walk,
	// documents by line.
	many := run.ScanReport(context.Background(), &manifest.Source{Paths: paths}, p.Checks, p.Options, 8, p.Filter)
	files, _ := (&manifest.Source{Paths: paths}).Files()
	pos := func(o report.Object) [2]int { return [2]int{slices.Index(files, o.Location.File), o.Location.Line} }
	if !slices.IsSortedFunc(many.Objects, func(a, b report.Object) int {
		pa, pb := pos(a), pos(b)
		if pa[0] != pb[0] {
			return pa[0] - pb[0]
		}
		return pa[1] - pb[1]
	}) {
		t.Error("objects are not in input order")
	}
}

// failAfter is standard output that breaks after n bytes, like a closed
// pipe or a full disk.
type failAfter struct{ n int }

func (f *failAfter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		k := f.n
		f.n = 0
		return k, errors.New("no space left on device")
	}
	f.n -= len(b)
	return len(b), nil
}

// TestScanWriteError: when the report cannot be written part way through
// the scan, the scan still ends, says so, and exits 2, in every format.
func TestScanWriteError(t *testing.T) {
	dir := t.TempDir()
	if _, err := corpus.Write(dir, corpus.Options{N: 300, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			var stderr bytes.Buffer
			code := Run(context.Background(), []string{"scan", "-o", format, dir}, IO{Stdout: &failAfter{n: 1 << 20}, Stderr: &stderr})
			if code != ExitError || !strings.Contains(stderr.String(), "write report: no space left on device") {
				t.Errorf("exit %d, stderr %q; want %d and the write error", code, stderr.String(), ExitError)
			}
		})
	}
}
