package checks_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/run"
)

// fixUnit is one input scanned on its own, as one file is: its objects
// relate to one another and to nothing else.
type fixUnit struct {
	name string
	data []byte
	opts check.Options
}

// fixUnits are the inputs fixes are proven on: the upstream Pod Security
// fixtures of the newest version, the real-world corpus (kept with its
// origin and commit), the examples, and each check's failing fixture.
func fixUnits(t *testing.T) []fixUnit {
	t.Helper()
	restricted := check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}
	var units []fixUnit
	add := func(opts check.Options, paths ...string) {
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			// Some upstream fixtures are named with an underscore, which
			// no object name may hold; the API server would refuse them
			// before Pod Security saw them.
			data = underscoreName.ReplaceAllFunc(data, func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("_"), []byte("-")) })
			units = append(units, fixUnit{name: p, data: data, opts: opts})
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatal(err)
	}
	upstream := filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
	newest := ""
	for minor := 0; minor < 100; minor++ {
		if _, err := os.Stat(filepath.Join(upstream, "restricted", fmt.Sprintf("v1.%d", minor))); err == nil {
			newest = fmt.Sprintf("v1.%d", minor)
		}
	}
	for _, level := range []string{"baseline", "restricted"} {
		for _, verdict := range []string{"fail", "pass"} {
			files, _ := filepath.Glob(filepath.Join(upstream, level, newest, verdict, "*.yaml"))
			if len(files) == 0 {
				t.Fatalf("no upstream fixtures in %s", filepath.Join(upstream, level, newest, verdict))
			}
			add(restricted, files...)
		}
	}
	corpus := filepath.Join("..", "cli", "testdata", "corpus")
	argo := restricted
	argo.Namespace = "argocd" // as SOURCES.md says it is applied
	add(argo, filepath.Join(corpus, "argo-cd", "install.yaml"))
	for _, pattern := range []string{"ingress-nginx/*.yaml", "badpods/*.yaml", "kubernetes-goat/*/*.yaml", "kube-prometheus/*.yaml"} {
		files, _ := filepath.Glob(filepath.Join(corpus, pattern))
		if len(files) == 0 {
			t.Fatalf("no corpus files %s", pattern)
		}
		add(restricted, files...)
	}
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.yaml"))
	add(restricted, examples...)
	add(restricted, filepath.Join("..", "suppress", "testdata", "invalid-suppression.yaml"))
	fixtures, _ := filepath.Glob(filepath.Join("*", "testdata", "*.yaml"))
	params := restricted
	params.AllowedRegistries = []string{"registry.example.com", "registry.internal:5000", "ghcr.io/example-org"}
	params.TrustedHostPaths = []string{"/var/lib/docker/containers"}
	for _, f := range fixtures {
		if strings.HasSuffix(f, "_ok.yaml") {
			continue
		}
		if strings.HasPrefix(f, "workload"+string(filepath.Separator)) {
			add(params, f)
		} else {
			add(restricted, f)
		}
	}
	return units
}

var underscoreName = regexp.MustCompile(`(?m)^  name: [a-z0-9_]+$`)

// scanUnit scans data as kubeguard scan scans one file.
func scanUnit(t *testing.T, cs []check.Check, u fixUnit, data []byte) ([]finding.Finding, []finding.InputError) {
	t.Helper()
	src := &manifest.Source{Paths: []string{"-"}, Stdin: bytes.NewReader(data)}
	r := run.ScanReport(context.Background(), src, cs, u.opts, 1, nil)
	return r.Findings, r.Errors
}

// findingKey identifies a finding across scans of the same object.
func findingKey(f finding.Finding) string {
	return strings.Join([]string{f.CheckID, f.Object.Kind, f.Object.Namespace, f.Object.Name, strings.Join(f.Containers, ","), f.Path}, "|")
}

// reported reports whether g was among the findings before a fix: a
// finding of the same check on the same object about the same containers
// or some of them (the Pod Security checks report one finding for every
// container at fault, and a fix of some of them leaves the others), or,
// about no container, at the same place.
func reported(before []finding.Finding, g finding.Finding) bool {
	return slices.ContainsFunc(before, func(f finding.Finding) bool {
		if f.CheckID != g.CheckID || f.Object != g.Object {
			return false
		}
		if len(g.Containers) == 0 {
			return f.Path == g.Path
		}
		for _, c := range g.Containers {
			if !slices.Contains(f.Containers, c) {
				return false
			}
		}
		return true
	})
}

// placeholders are names that fixes once carried in place of the object's
// own. One in a fix is an error unless the input itself uses it.
var placeholders = []string{"my-namespace", "my-app", "shop", "app", "web", "frontend", "db-credentials", "DB_PASSWORD",
	"example.com", "registry.example.com", "monitoring", "prometheus", "vault", "1.4.2", "203.0.113.0/24", "8080"}

// TestEveryFixFixes holds every fix a scan writes to what it claims: for
// each finding of every check on the upstream Pod Security fixtures, the
// real-world corpus, the examples and the checks' own failing fixtures,
// the fix is applied to the object as written (a strategic merge patch,
// with kubectl's own implementation, or whole objects added to the input)
// and the input scanned again. The finding must be gone, no finding as
// severe must appear, the fixed input must decode and validate, and the
// fix must name the object's own things, not placeholders. Checks whose
// remediation cannot be applied are listed in checktest.AdviceOnly with the reason.
func TestEveryFixFixes(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	cs := run.Checks(all, run.FrontScan)
	proven := map[string]int{}
	advised := map[string]int{}
	for _, u := range fixUnits(t) {
		before, errs := scanUnit(t, cs, u, u.data)
		if len(errs) > 0 {
			t.Errorf("%s: input errors before any fix: %v", u.name, errs)
			continue
		}
		keys := map[string]bool{}
		for _, f := range before {
			keys[findingKey(f)] = true
		}
		objs, err := checktest.Objects(u.name, u.data, u.opts.Namespace)
		if err != nil {
			t.Fatalf("%s: %v", u.name, err)
		}
		for _, f := range before {
			if f.Suppressed != nil {
				continue
			}
			block := checktest.FixBlock(f.Remediation)
			for _, p := range placeholders {
				if containsWord(f.Remediation, p) && !containsWord(string(u.data), p) {
					t.Errorf("%s: %s on %s: the fix names %q, which the input does not:\n%s", u.name, f.CheckID, f.Object, p, f.Remediation)
				}
			}
			if checktest.IsAdvice(f) {
				advised[f.CheckID]++
				continue
			}
			if block == "" {
				t.Errorf("%s: %s on %s: no fix written as YAML (list the check in checktest.AdviceOnly, with why, if none can be):\n%s", u.name, f.CheckID, f.Object, f.Remediation)
				continue
			}
			block, unknown := checktest.FillSlots(block)
			if len(unknown) > 0 {
				t.Errorf("%s: %s on %s: the fix has slots %v no value can fill:\n%s", u.name, f.CheckID, f.Object, unknown, f.Remediation)
				continue
			}
			pf, err := checktest.ParseFix(block)
			if err != nil {
				t.Errorf("%s: %s on %s: the fix cannot be applied: %v:\n%s", u.name, f.CheckID, f.Object, err, block)
				continue
			}
			fixedObjs, err := checktest.ApplyFix(objs, f.Object, pf)
			if err == checktest.ErrAmbiguous {
				continue
			}
			if err != nil {
				t.Errorf("%s: %s on %s: %v", u.name, f.CheckID, f.Object, err)
				continue
			}
			// A patch that names a container the object does not have
			// adds one, without an image.
			if was, is := containers(objs, f.Object), containers(fixedObjs, f.Object); !slices.Equal(was, is) {
				t.Errorf("%s: %s on %s: the fix changes the containers from %v to %v:\n%s", u.name, f.CheckID, f.Object, was, is, block)
				continue
			}
			after, errs := scanUnit(t, cs, u, checktest.Join(fixedObjs))
			if len(errs) > 0 {
				t.Errorf("%s: %s on %s: the fixed input is refused: %v\nfix:\n%s", u.name, f.CheckID, f.Object, errs, block)
				continue
			}
			ok := true
			for _, g := range after {
				k := findingKey(g)
				switch {
				case k == findingKey(f):
					t.Errorf("%s: %s on %s: still reported after its fix:\n%s", u.name, f.CheckID, f.Object, block)
					ok = false
				case !keys[k] && g.Severity >= f.Severity && g.Suppressed == nil && !reported(before, g):
					t.Errorf("%s: %s on %s: the fix brings %s %s on %s at %s: %s\nfix:\n%s", u.name, f.CheckID, f.Object, g.Severity, g.CheckID, g.Object, g.Path, g.Reason, block)
					ok = false
				}
			}
			if ok {
				proven[f.CheckID]++
			}
		}
	}
	// Every check of the scan is exercised, and is either proven or
	// advice: a new check without either fails here.
	for _, c := range cs {
		if c.Scope == check.ScopeConfig {
			continue // about kubeguard's configuration, not an object
		}
		a, advice := checktest.AdviceOnly[c.ID]
		advice = advice && a.When == nil
		switch {
		case checktest.AdviceOnly[c.ID].Why != "" && advised[c.ID] == 0:
			t.Errorf("%s is listed as advice only, yet no input makes it report", c.ID)
		case !advice && proven[c.ID] == 0:
			t.Errorf("%s: no fix of it proven: no input makes it report, or every fix failed", c.ID)
		}
	}
	for id := range checktest.AdviceOnly {
		if !slices.ContainsFunc(cs, func(c check.Check) bool { return c.ID == id }) {
			t.Errorf("checktest.AdviceOnly lists %s, which the scan does not run", id)
		}
	}
	t.Logf("fixes proven by check: %v; advice by check: %v", proven, advised)
}

// containers lists the containers of the object ref of objs, each as its
// list and name.
func containers(objs []checktest.Object, ref finding.ObjectRef) []string {
	var out []string
	for _, o := range objs {
		if o.Ref.Kind != ref.Kind || o.Ref.Name != ref.Name || o.Ref.Namespace != ref.Namespace && o.Ref.Namespace != "" && ref.Namespace != "" {
			continue
		}
		parsed, errs := manifest.Parse("fixed", manifest.Split(o.JSON)[0])
		if len(errs) > 0 || len(parsed) != 1 {
			return []string{"(does not parse)"}
		}
		t, err := parsed[0].PodTemplate()
		if err != nil || t == nil {
			return out
		}
		for _, c := range t.Containers() {
			out = append(out, c.Kind+"/"+c.Name)
		}
	}
	return out
}

// containsWord reports whether s holds w, not as part of a longer name.
func containsWord(s, w string) bool {
	if strings.Contains(w, ".") {
		return strings.Contains(s, w) // a domain or a version, within any name
	}
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !nameByte(s[j-1])) && (end == len(s) || !nameByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func nameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
