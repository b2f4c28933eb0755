// Package podsecurity proves kubeguard's Pod Security verdicts are the API
// server's: every upstream fixture Pod is sent, as a server-side dry run,
// to a real kube-apiserver enforcing the fixture's level and version, and
// the answer is compared with what kubeguard says of the same manifest.
package podsecurity

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"
)

var srv *apiserver.Server

// allVersions widens the pinned versions from a sample to every version
// the fixtures have.
var allVersions = flag.Bool("all-versions", false, "check every pinned Pod Security version the fixtures have, not a sample")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(apiserver.RunTests(m, apiserver.Options{}, &srv))
}

// sampleVersions are the pinned versions checked by default besides
// latest: the first version the API server enforced, the first with
// restricted's seccomp and capabilities rules in their present form, the
// first after AppArmor became a field, and the newest.
var sampleVersions = []string{"v1.22", "v1.25", "v1.30", "newest"}

// fixtureVersions lists the v1.N directories of a level, oldest first.
func fixtureVersions(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := api.ParseVersion(e.Name()); err == nil && e.Name() != "latest" {
			out = append(out, e.Name())
		}
	}
	sort.Slice(out, func(i, j int) bool { return minor(out[i]) < minor(out[j]) })
	if len(out) == 0 {
		t.Fatalf("no fixture versions in %s", dir)
	}
	return out
}

func minor(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(v, "v1."))
	return n
}

// TestParityWithAPIServer is the oracle for kubeguard's claim that its Pod
// Security verdicts are the API server's, message for message. For each
// level and each enforce-version (latest, with the newest fixtures, and
// pinned versions with their own), it creates a namespace enforcing them
// and dry-runs every pass and fail fixture there. Fail fixtures must be
// rejected with exactly the message kubeguard's results aggregate to; pass
// fixtures must be admitted and draw no result from kubeguard.
func TestParityWithAPIServer(t *testing.T) {
	mod, err := apiserver.ModuleDir(t.Context(), "k8s.io/pod-security-admission")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(mod, "test", "testdata")
	e, err := pss.NewEvaluator()
	if err != nil {
		t.Fatal(err)
	}
	var total, fails int
	for _, level := range []string{"baseline", "restricted"} {
		versions := fixtureVersions(t, filepath.Join(root, level))
		newest := versions[len(versions)-1]
		type run struct{ label, dir string }
		runs := []run{{"latest", newest}}
		if *allVersions {
			for _, v := range versions {
				runs = append(runs, run{v, v})
			}
		} else {
			for _, v := range sampleVersions {
				if v == "newest" {
					v = newest
				}
				if slices.Contains(versions, v) {
					runs = append(runs, run{v, v})
				}
			}
		}
		for _, r := range runs {
			t.Run(level+"/"+r.label, func(t *testing.T) {
				ns := srv.Namespace(t, "pss-"+level, map[string]string{
					api.EnforceLevelLabel:   level,
					api.EnforceVersionLabel: r.label,
				})
				lv, err := pss.LevelVersion(level, r.label)
				if err != nil {
					t.Fatal(err)
				}
				engine := check.NewEngine(pss.Checks(e), check.NewContext(check.Options{PodSecurity: &lv}, nil))
				for _, kind := range []string{"pass", "fail"} {
					files, err := filepath.Glob(filepath.Join(root, level, r.dir, kind, "*.yaml"))
					if err != nil || len(files) == 0 {
						t.Fatalf("no %s fixtures in %s/%s: %v", kind, level, r.dir, err)
					}
					for _, file := range files {
						total++
						if kind == "fail" {
							fails++
						}
						t.Run(kind+"/"+filepath.Base(file), func(t *testing.T) {
							compare(t, e, engine, lv, ns.Name, file, kind == "pass")
						})
					}
				}
			})
		}
	}
	t.Logf("%d fixtures (%d fail) dry-run against kube-apiserver %s, fixtures from %s", total, fails, srv.Version, mod)
}

// compare judges one fixture both ways.
// metadataName is the line of a fixture's name: metadata's first level.
var metadataName = regexp.MustCompile(`(?m)^  name: .*$`)

func compare(t *testing.T, e *pss.Evaluator, engine *check.Engine, lv api.LevelVersion, ns, file string, pass bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Some fixtures are named after their check (capabilities_baseline0),
	// which is no valid object name: the API server and kubeguard refuse
	// it alike, and the name plays no part in the verdict.
	data = metadataName.ReplaceAllFunc(data, func(line []byte) []byte { return bytes.ReplaceAll(line, []byte("_"), []byte("-")) })

	// kubeguard: its own loader, defaults and evaluator, as a scan runs
	// them.
	docs := manifest.Split(data)
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	objs, errs := manifest.Parse(file, docs[0])
	if len(errs) > 0 || len(objs) != 1 {
		t.Fatalf("parse: %d objects, errors %v", len(objs), errs)
	}
	tmpl, err := objs[0].PodTemplate()
	if err != nil || tmpl == nil {
		t.Fatalf("pod template: %v", err)
	}
	results := e.Evaluate(lv, &tmpl.Metadata, &tmpl.Spec)
	checkFindings(t, engine, objs[0], withOverridden(e, lv, tmpl, results))

	// The API server.
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(data, &pod); err != nil {
		t.Fatalf("decode: %v", err)
	}
	pod.Namespace = ns
	_, err = srv.Client.CoreV1().Pods(ns).Create(t.Context(), &pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})

	want := forbiddenMessage(pod.Name, lv, results)
	if apierrors.IsInvalid(err) {
		// Validation runs before admission: a fixture the API server finds
		// invalid (procMount Unmasked without hostUsers: false, since
		// v1.35) gets no Pod Security verdict to compare with.
		if !pass && len(results) == 0 {
			t.Errorf("fail fixture: kubeguard reports nothing")
		}
		t.Skipf("API server: %v: rejected by validation before Pod Security runs", err)
	}
	switch {
	case err != nil && !apierrors.IsForbidden(err):
		t.Fatalf("API server: %v (not a Pod Security verdict)", err)
	case pass && err != nil:
		t.Errorf("pass fixture rejected by the API server: %v", err)
	case !pass && err == nil:
		t.Errorf("fail fixture admitted by the API server")
	}
	switch {
	case pass && len(results) > 0:
		t.Errorf("pass fixture: kubeguard reports %s", want)
	case !pass && len(results) == 0:
		t.Errorf("fail fixture: kubeguard reports nothing")
	}
	if err != nil && err.Error() != want {
		t.Errorf("message mismatch\napiserver: %s\nkubeguard: %s", err, want)
	}
}

// forbiddenMessage is the message the API server's PodSecurity admission
// gives for the results, "" when there are none: the reasons joined by
// ", ", each followed by its detail in parentheses when it has one, after
// the level and version enforced, in a Forbidden error for the pod.
func forbiddenMessage(name string, lv api.LevelVersion, results []pss.Result) string {
	if len(results) == 0 {
		return ""
	}
	parts := make([]string, len(results))
	for i, r := range results {
		parts[i] = r.Reason
		if r.Detail != "" {
			parts[i] += " (" + r.Detail + ")"
		}
	}
	return fmt.Sprintf("pods %q is forbidden: violates PodSecurity %q: %s", name, lv.String(), strings.Join(parts, ", "))
}

// checkFindings checks that the findings a scan reports for the object are
// the evaluator's results, one for one, so the message built from the
// results is the one the findings aggregate to.
// withOverridden is what kubeguard reports beside the evaluator's results
// at restricted: the baseline failures that upstream's restricted checks
// override (an added SYS_ADMIN under "unrestricted capabilities"), at
// their own baseline severity. The server's verdict below is still held to
// the evaluator's results alone.
func withOverridden(e *pss.Evaluator, lv api.LevelVersion, tmpl *object.PodTemplate, results []pss.Result) []pss.Result {
	if lv.Level != api.LevelRestricted {
		return results
	}
	out := slices.Clone(results)
	for _, r := range e.Evaluate(api.LevelVersion{Level: api.LevelBaseline, Version: lv.Version}, &tmpl.Metadata, &tmpl.Spec) {
		if !slices.ContainsFunc(results, func(x pss.Result) bool { return x.ID == r.ID }) {
			out = append(out, r)
		}
	}
	return out
}

func checkFindings(t *testing.T, engine *check.Engine, obj *object.Object, results []pss.Result) {
	t.Helper()
	findings, err := engine.Run(obj)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	type verdict struct{ ID, Reason, Detail string }
	var got, want []verdict
	for _, f := range findings {
		got = append(got, verdict{f.CheckID, f.Reason, f.Detail})
	}
	for _, r := range results {
		want = append(want, verdict{pss.ID(r.ID), r.Reason, r.Detail})
	}
	less := func(a, b verdict) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings differ from the evaluator's results (-results +findings):\n%s", diff)
	}
}

// TestLibraryVersion records which k8s.io/pod-security-admission the
// kubeguard code above was built with here, beside the one kubeguard's own
// go.mod selects: this module replaces it with the API server's release,
// so the parity shown is that of kubeguard's code on the server's library.
func TestLibraryVersion(t *testing.T) {
	here, err := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "k8s.io/pod-security-admission")
	cmd.Dir = filepath.Join("..", "..", "..")
	shipped, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	h, s := strings.TrimSpace(string(here)), strings.TrimSpace(string(shipped))
	if h != s {
		t.Logf("kubeguard ships k8s.io/pod-security-admission %s; this suite checks its code against %s, the API server's", s, h)
	}
}
