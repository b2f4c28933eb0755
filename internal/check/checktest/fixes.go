package checktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
)

// This file applies the fixes findings carry, as a user would: the first
// YAML block of a remediation (and the blocks that go on from it with
// "and"), a patch written from the object's root applied as a strategic
// merge patch, or whole objects added to the input. TestEveryFixFixes
// (package checks) and the end-to-end suite hold every fix to it.

// Advice is why a check's remediation is advice, not a change kubeguard
// can write for the object; when, if set, says which of its findings.
type Advice struct {
	// Why the remediation cannot be applied.
	Why string
	// When, if set, says which findings of the check it covers.
	When func(finding.Finding) bool
}

// AdviceOnly are the scan's checks whose remediation is advice: each with
// why. Their text is still held to the object's own names. Every other
// check that reports a finding must write a fix that TestEveryFixFixes
// applies and proves.
var AdviceOnly = map[string]Advice{
	"service-account-token-automount": {
		Why:  "the workload evidently calls the API, so it keeps its token; what to narrow is the grants (kubeguard rbac risks)",
		When: func(f finding.Finding) bool { return f.Reason == "token of a ServiceAccount granted risky permissions" },
	},
	"image-registry":                            {Why: "which allowed registry holds a copy of the image (mirrored or rebuilt) is the user's to make and name"},
	"sensitive-host-path":                       {Why: "the host path is what the workload mounts it for: what replaces it (a narrower path, a CSI driver, nothing) only its owner knows"},
	"service-account-legacy-token":              {Why: "the fix deletes the Secret and moves its clients, which are outside the input, to bound tokens"},
	"service-account-subject-namespace":         {Why: "the fix is how the input is applied (kubectl apply -n, scan -n), not a change of an object"},
	"netpol-from-every-namespace":               {Why: "which namespaces need the port only the operator knows"},
	"netpol-selects-no-pod":                     {Why: "which pods the policy is meant for only its author knows"},
	"netpol-peers-or-not-and":                   {Why: "both readings are valid policies: whether one peer was meant only the author knows"},
	"netpol-namespace-selector-matches-nothing": {Why: "which namespace was meant only the author knows (it may be created outside the input)"},
	"netpol-named-port-undeclared":              {Why: "whether the policy or the pods are wrong, and the port's number, only the application's owner knows"},
	"netpol-named-port-protocol":                {Why: "whether the rule or the pods have the wrong protocol only the application's owner knows"},
	"secret-in-manifest":                        {Why: "the values must be rotated and leave the manifest for a secret store or a sealed form; kubeguard writes no value"},
	"hardcoded-credential":                      {Why: "the credential must be rotated and stored outside the manifest; kubeguard writes no value"},
	"secret-env-var":                            {Why: "whether the program can read the value from a file instead only its authors know"},
	"secret-volume-all-containers":              {Why: "which containers read the Secret only the workload's owner knows"},
	"duplicate-object":                          {Why: "which copy is meant, or whether both are (separate environments), only the user knows"},
	"duplicate-field":                           {Why: "which copy of the key is meant (kubectl applies the last, a reviewer reads the first) only the author knows"},
	"invalid-suppression":                       {Why: "the waiver's reason and checks are the user's to write"},
}

// IsAdvice reports whether f's remediation is advice (AdviceOnly).
func IsAdvice(f finding.Finding) bool {
	a, ok := AdviceOnly[f.CheckID]
	return ok && (a.When == nil || a.When(f))
}

// A slot is a value no manifest can say and kubeguard cannot know offline,
// written <like-this> in a fix for the user to fill; SlotValues fills each
// known one with a valid value when a test applies a fix.
var (
	slot = regexp.MustCompile(`<[^<>\n]+>`)
	// SlotValues fill the slots a fix may have.
	SlotValues = map[string]string{
		"<digest>":  strings.Repeat("0123456789abcdef", 4),
		"<version>": "1.0.0",
		"<issuer>":  "letsencrypt",
	}
)

// FillSlots fills the slots of a fix block; unknown lists those
// SlotValues has no value for.
func FillSlots(block string) (filled string, unknown []string) {
	filled = slot.ReplaceAllStringFunc(block, func(s string) string {
		if v, ok := SlotValues[s]; ok {
			return v
		}
		unknown = append(unknown, s)
		return s
	})
	return filled, unknown
}

// FixBlock returns the fix of a remediation: the YAML block indented
// under the first line that ends with a colon, and the blocks of lines
// that go on from it with "and" (create this, and set that). A line
// starting with "or" begins an alternative, which is not applied.
func FixBlock(rem string) string {
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

// Fix is a fix as applied: a patch of the object, written from its root,
// and whole objects to add (or to merge into those of the same name).
type Fix struct {
	Patch   []byte
	Objects [][]byte
}

// ParseFix reads a fix block: YAML documents, each an object (with
// apiVersion and kind) or the patch of the finding's object.
func ParseFix(block string) (Fix, error) {
	var pf Fix
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
			pf.Objects = append(pf.Objects, j)
			continue
		}
		if pf.Patch != nil {
			return pf, fmt.Errorf("two patches of the object")
		}
		pf.Patch = j
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

// PatchObject applies a strategic merge patch to an object's JSON, with
// the upstream implementation (kubectl patch's) for built-in kinds.
func PatchObject(orig, patch []byte, apiVersion, kind string) ([]byte, error) {
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

// Object is an object of an input as JSON.
type Object struct {
	Ref  finding.ObjectRef
	JSON []byte
}

// Objects reads an input's objects as JSON, in input order, each without
// a namespace given namespace (kubectl apply -n) when it is not empty.
func Objects(name string, data []byte, namespace string) ([]Object, error) {
	var out []Object
	for _, d := range manifest.Split(data) {
		objs, errs := manifest.Parse(name, d)
		if len(errs) > 0 {
			return nil, errs[0]
		}
		for _, o := range objs {
			if namespace != "" {
				if err := o.ApplyNamespace(namespace); err != nil {
					return nil, err
				}
			}
			b, err := o.JSON()
			if err != nil {
				return nil, err
			}
			out = append(out, Object{Ref: o.Ref, JSON: b})
		}
	}
	return out, nil
}

// sameObject reports whether a finding's object is o: a namespaced
// object without a namespace in the input is in the scan's.
func sameObject(a, b finding.ObjectRef) bool {
	return a.Kind == b.Kind && a.Name == b.Name && (a.Namespace == b.Namespace || a.Namespace == "" || b.Namespace == "")
}

// ApplyFix applies the fix of a finding about target to objs and returns
// the fixed objects; objs is not changed. ErrAmbiguous says the input
// defines target more than once.
func ApplyFix(objs []Object, target finding.ObjectRef, pf Fix) ([]Object, error) {
	objs = slices.Clone(objs)
	if pf.Patch != nil {
		i := slices.IndexFunc(objs, func(o Object) bool { return sameObject(o.Ref, target) })
		if i < 0 {
			return nil, fmt.Errorf("object %s not in the input", target)
		}
		if slices.ContainsFunc(objs[i+1:], func(o Object) bool { return sameObject(o.Ref, target) }) {
			return nil, ErrAmbiguous
		}
		b, err := PatchObject(objs[i].JSON, pf.Patch, objs[i].Ref.APIVersion, objs[i].Ref.Kind)
		if err != nil {
			return nil, fmt.Errorf("patch: %w", err)
		}
		objs[i].JSON = b
	}
	for _, n := range pf.Objects {
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
		i := slices.IndexFunc(objs, func(o Object) bool { return sameObject(o.Ref, ref) })
		switch {
		case i < 0:
			objs = append(objs, Object{Ref: ref, JSON: n})
			continue
		case objs[i].Ref.APIVersion != ref.APIVersion:
			objs[i] = Object{Ref: ref, JSON: n} // rewritten in another version
			continue
		}
		b, err := PatchObject(objs[i].JSON, n, objs[i].Ref.APIVersion, objs[i].Ref.Kind)
		if err != nil {
			return nil, fmt.Errorf("merge %s: %w", ref, err)
		}
		objs[i].JSON = b
	}
	return objs, nil
}

// Join writes objects as one input, a JSON document each.
func Join(objs []Object) []byte {
	var out []byte
	for _, o := range objs {
		out = append(out, "---\n"...)
		out = append(out, o.JSON...)
		out = append(out, '\n')
	}
	return out
}

// ErrAmbiguous is ApplyFix's error for an object the input defines more
// than once.
var ErrAmbiguous = errors.New("the input defines the object more than once")
