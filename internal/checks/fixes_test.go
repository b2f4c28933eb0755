package checks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/run"
)

// advice is why a check's remediation is advice, not a change kubeguard
// can write for the object; when, if set, says which of its findings.
type advice struct {
	why  string
	when func(finding.Finding) bool
}

// adviceOnly are the scan's checks whose remediation is advice: each with
// why. Their text is still held to the object's own names. Every other
// check that reports a finding must write a fix that TestEveryFixFixes
// applies and proves.
var adviceOnly = map[string]advice{
	"service-account-token-automount": {
		why:  "the workload evidently calls the API, so it keeps its token; what to narrow is the grants (kubeguard rbac risks)",
		when: func(f finding.Finding) bool { return f.Reason == "token of a ServiceAccount granted risky permissions" },
	},
	"image-registry":                            {why: "which allowed registry holds a copy of the image (mirrored or rebuilt) is the user's to make and name"},
	"sensitive-host-path":                       {why: "the host path is what the workload mounts it for: what replaces it (a narrower path, a CSI driver, nothing) only its owner knows"},
	"service-account-legacy-token":              {why: "the fix deletes the Secret and moves its clients, which are outside the input, to bound tokens"},
	"service-account-subject-namespace":         {why: "the fix is how the input is applied (kubectl apply -n, scan -n), not a change of an object"},
	"netpol-from-every-namespace":               {why: "which namespaces need the port only the operator knows"},
	"netpol-selects-no-pod":                     {why: "which pods the policy is meant for only its author knows"},
	"netpol-peers-or-not-and":                   {why: "both readings are valid policies: whether one peer was meant only the author knows"},
	"netpol-namespace-selector-matches-nothing": {why: "which namespace was meant only the author knows (it may be created outside the input)"},
	"netpol-named-port-undeclared":              {why: "whether the policy or the pods are wrong, and the port's number, only the application's owner knows"},
	"netpol-named-port-protocol":                {why: "whether the rule or the pods have the wrong protocol only the application's owner knows"},
	"secret-in-manifest":                        {why: "the values must be rotated and leave the manifest for a secret store or a sealed form; kubeguard writes no value"},
	"hardcoded-credential":                      {why: "the credential must be rotated and stored outside the manifest; kubeguard writes no value"},
	"secret-env-var":                            {why: "whether the program can read the value from a file instead only its authors know"},
	"secret-volume-all-containers":              {why: "which containers read the Secret only the workload's owner knows"},
	"duplicate-object":                          {why: "which copy is meant, or whether both are (separate environments), only the user knows"},
	"invalid-suppression":                       {why: "the waiver's reason and checks are the user's to write"},
}

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

// slot is a value no manifest can say and kubeguard cannot know offline,
// written <like-this> in a fix for the user to fill; slotValues fills
// each known one with a valid value when the test applies a fix.
var (
	slot       = regexp.MustCompile(`<[^<>\n]+>`)
	slotValues = map[string]string{
		"<digest>":  strings.Repeat("0123456789abcdef", 4),
		"<version>": "1.0.0",
		"<issuer>":  "letsencrypt",
	}
)

// fixBlock returns the fix of a remediation: the YAML block indented
// under the first line that ends with a colon, and the blocks of lines
// that go on from it with "and" (create this, and set that). A line
// starting with "or" begins an alternative, which is not applied.
func fixBlock(rem string) string {
	lines := strings.Split(rem, "\n")
	var docs []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasSuffix(l, ":") || strings.HasPrefix(l, " ") || len(docs) > 0 && !strings.HasPrefix(l, "and ") {
			if len(docs) > 0 {
				break
			}
			continue
		}
		var b []string
		for _, m := range lines[i+1:] {
			if !strings.HasPrefix(m, "  ") {
				break
			}
			b = append(b, strings.TrimPrefix(m, "  "))
		}
		if len(b) == 0 {
			break
		}
		docs = append(docs, strings.Join(b, "\n"))
		i += len(b)
	}
	return strings.Join(docs, "\n---\n")
}

// parsedFix is a fix as applied: a patch of the object, written from its
// root, or whole objects to add (or merge into those of the same name).
type parsedFix struct {
	patch   []byte
	objects [][]byte
}

func parseFix(block string) (parsedFix, error) {
	var pf parsedFix
	for _, doc := range strings.Split(block, "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return pf, fmt.Errorf("not YAML: %w", err)
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil || m == nil {
			return pf, fmt.Errorf("not a mapping")
		}
		if m["apiVersion"] != nil && m["kind"] != nil {
			pf.objects = append(pf.objects, j)
			continue
		}
		if pf.patch != nil {
			return pf, fmt.Errorf("two patches of the object")
		}
		pf.patch = j
	}
	return pf, nil
}

// mergeKeys are the merge keys of lists in a pod spec, for kinds the
// built-in scheme does not know (custom resources with a pod template).
var mergeKeys = map[string]string{"containers": "name", "initContainers": "name", "volumes": "name", "env": "name",
	"volumeMounts": "mountPath", "ports": "containerPort"}

// mergeJSON merges patch into doc as a strategic merge patch does: null
// removes, mappings merge, lists of items with a merge key merge by it.
func mergeJSON(doc, patch any, field string) any {
	switch p := patch.(type) {
	case map[string]any:
		d, ok := doc.(map[string]any)
		if !ok {
			d = map[string]any{}
		}
		for k, v := range p {
			if v == nil {
				delete(d, k)
				continue
			}
			d[k] = mergeJSON(d[k], v, k)
		}
		return d
	case []any:
		key, ok := mergeKeys[field]
		d, isList := doc.([]any)
		if !ok || !isList {
			return p
		}
		for _, item := range p {
			im, _ := item.(map[string]any)
			i := slices.IndexFunc(d, func(x any) bool {
				xm, _ := x.(map[string]any)
				return xm != nil && im != nil && fmt.Sprint(xm[key]) == fmt.Sprint(im[key])
			})
			if i < 0 {
				d = append(d, item)
			} else {
				d[i] = mergeJSON(d[i], item, "")
			}
		}
		return d
	}
	return patch
}

// patchObject applies a strategic merge patch to an object's JSON, with
// the upstream implementation (kubectl patch's) for built-in kinds.
func patchObject(orig, patch []byte, apiVersion, kind string) ([]byte, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err == nil {
		if typed, err := scheme.Scheme.New(gv.WithKind(kind)); err == nil {
			return strategicpatch.StrategicMergePatch(orig, patch, typed)
		}
	}
	var d, p any
	if err := json.Unmarshal(orig, &d); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	return json.Marshal(mergeJSON(d, p, ""))
}

// unitObjects are a unit's objects as JSON, in input order.
type unitObject struct {
	ref  finding.ObjectRef
	json []byte
}

func objectsOf(t *testing.T, u fixUnit, data []byte) []unitObject {
	t.Helper()
	var out []unitObject
	for _, d := range manifest.Split(data) {
		objs, errs := manifest.Parse(u.name, d)
		if len(errs) > 0 {
			return nil // input errors are the scan's to report
		}
		for _, o := range objs {
			if u.opts.Namespace != "" {
				if err := o.ApplyNamespace(u.opts.Namespace); err != nil {
					return nil
				}
			}
			b, err := o.JSON()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, unitObject{ref: o.Ref, json: b})
		}
	}
	return out
}

// sameObject reports whether a finding's object is o: a namespaced
// object without a namespace in the input is in the scan's.
func sameObject(a, b finding.ObjectRef) bool {
	return a.Kind == b.Kind && a.Name == b.Name && (a.Namespace == b.Namespace || a.Namespace == "" || b.Namespace == "")
}

// applyFix applies a finding's fix to the unit's objects and returns the
// fixed input.
func applyFix(objs []unitObject, f finding.Finding, pf parsedFix) ([]byte, error) {
	objs = slices.Clone(objs)
	if pf.patch != nil {
		i := slices.IndexFunc(objs, func(o unitObject) bool { return sameObject(o.ref, f.Object) })
		if i < 0 {
			return nil, fmt.Errorf("object %s not in the input", f.Object)
		}
		if slices.ContainsFunc(objs[i+1:], func(o unitObject) bool { return sameObject(o.ref, f.Object) }) {
			return nil, errAmbiguous
		}
		b, err := patchObject(objs[i].json, pf.patch, objs[i].ref.APIVersion, objs[i].ref.Kind)
		if err != nil {
			return nil, fmt.Errorf("patch: %w", err)
		}
		objs[i].json = b
	}
	for _, n := range pf.objects {
		var m struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(n, &m); err != nil {
			return nil, err
		}
		ref := finding.ObjectRef{APIVersion: m.APIVersion, Kind: m.Kind, Namespace: m.Metadata.Namespace, Name: m.Metadata.Name}
		i := slices.IndexFunc(objs, func(o unitObject) bool { return sameObject(o.ref, ref) })
		switch {
		case i < 0:
			objs = append(objs, unitObject{ref: ref, json: n})
			continue
		case objs[i].ref.APIVersion != ref.APIVersion:
			objs[i] = unitObject{ref: ref, json: n} // rewritten in another version
			continue
		}
		b, err := patchObject(objs[i].json, n, objs[i].ref.APIVersion, objs[i].ref.Kind)
		if err != nil {
			return nil, fmt.Errorf("merge %s: %w", ref, err)
		}
		objs[i].json = b
	}
	var out []byte
	for _, o := range objs {
		out = append(out, "---\n"...)
		out = append(out, o.json...)
		out = append(out, '\n')
	}
	return out, nil
}

var errAmbiguous = fmt.Errorf("the input defines the object more than once")

// TestEveryFixFixes holds every fix a scan writes to what it claims: for
// each finding of every check on the upstream Pod Security fixtures, the
// real-world corpus, the examples and the checks' own failing fixtures,
// the fix is applied to the object as written (a strategic merge patch,
// with kubectl's own implementation, or whole objects added to the input)
// and the input scanned again. The finding must be gone, no finding as
// severe must appear, the fixed input must decode and validate, and the
// fix must name the object's own things, not placeholders. Checks whose
// remediation cannot be applied are listed in adviceOnly with the reason.
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
		objs := objectsOf(t, u, u.data)
		for _, f := range before {
			if f.Suppressed != nil {
				continue
			}
			block := fixBlock(f.Remediation)
			for _, p := range placeholders {
				if containsWord(f.Remediation, p) && !containsWord(string(u.data), p) {
					t.Errorf("%s: %s on %s: the fix names %q, which the input does not:\n%s", u.name, f.CheckID, f.Object, p, f.Remediation)
				}
			}
			if a, ok := adviceOnly[f.CheckID]; ok && (a.when == nil || a.when(f)) {
				advised[f.CheckID]++
				continue
			}
			if block == "" {
				t.Errorf("%s: %s on %s: no fix written as YAML (list the check in adviceOnly, with why, if none can be):\n%s", u.name, f.CheckID, f.Object, f.Remediation)
				continue
			}
			var unknown []string
			block = slot.ReplaceAllStringFunc(block, func(s string) string {
				if v, ok := slotValues[s]; ok {
					return v
				}
				unknown = append(unknown, s)
				return s
			})
			if len(unknown) > 0 {
				t.Errorf("%s: %s on %s: the fix has slots %v no value can fill:\n%s", u.name, f.CheckID, f.Object, unknown, f.Remediation)
				continue
			}
			pf, err := parseFix(block)
			if err != nil {
				t.Errorf("%s: %s on %s: the fix cannot be applied: %v:\n%s", u.name, f.CheckID, f.Object, err, block)
				continue
			}
			fixed, err := applyFix(objs, f, pf)
			if err == errAmbiguous {
				continue
			}
			if err != nil {
				t.Errorf("%s: %s on %s: %v", u.name, f.CheckID, f.Object, err)
				continue
			}
			after, errs := scanUnit(t, cs, u, fixed)
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
		a, advice := adviceOnly[c.ID]
		advice = advice && a.when == nil
		switch {
		case adviceOnly[c.ID].why != "" && advised[c.ID] == 0:
			t.Errorf("%s is listed as advice only, yet no input makes it report", c.ID)
		case !advice && proven[c.ID] == 0:
			t.Errorf("%s: no fix of it proven: no input makes it report, or every fix failed", c.ID)
		}
	}
	for id := range adviceOnly {
		if !slices.ContainsFunc(cs, func(c check.Check) bool { return c.ID == id }) {
			t.Errorf("adviceOnly lists %s, which the scan does not run", id)
		}
	}
	t.Logf("fixes proven by check: %v; advice by check: %v", proven, advised)
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
