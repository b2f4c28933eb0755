package manifest

import (
	"bytes"
	"testing"

	"github.com/kubeguard/kubeguard/internal/corpus"
	"github.com/kubeguard/kubeguard/internal/object"
)

// parseSeeds are inputs for FuzzParse beside generated manifests: the
// shapes the loader handles specially, and broken ones.
var parseSeeds = []string{
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec: {containers: [{name: c, image: x}]}\n- kind: Pod\n",
	"apiVersion: v1\nkind: PodList\nitems: []\n",
	"---\n# Source: chart/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: nginx\n...\n--- {apiVersion: v1, kind: Pod}\n",
	`{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}}}}`,
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: &s\n  containers: [{name: c, securityContext: {privileged: yes}}]\n  <<: {hostNetwork: true}\nother: *s\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: 3\n",
	"apiVersion: v1\nkind: Pod\nspec: &a\n  <<: *a\n",
	"kind: Pod\n",
	"a: [\n",
	"%YAML 1.1\n---\napiVersion: v1\nkind: Pod\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: 80, hostPort: 8080}]\n  volumes:\n  - name: v\n  - name: h\n    hostPath: {path: /}\n",
}

// FuzzParse feeds the loader arbitrary input: splitting, parsing, making
// objects and decoding their pod templates must never panic or hang, every
// error must name the file and a line of it, and every object must be a
// Kubernetes object that points into the input.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(laughs(9)))
	f.Add([]byte(nested(300)))
	_, err := corpus.Generate(corpus.Options{N: 20, Seed: 5}, func(file corpus.File) error {
		f.Add(file.Data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	var a Arena // one for every input, as each of Stream's workers has
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		inFile := func(line int) bool { return line >= 1 && line <= lines }
		for _, d := range Split(data) {
			if !inFile(d.Line) || !bytes.Contains(data, bytes.TrimLeft(d.Data, " ")) {
				t.Fatalf("document at line %d of %d lines: %q", d.Line, lines, d.Data)
			}
			a.Reset()
			objs, errs := a.Parse("fuzz.yaml", d)
			for _, e := range errs {
				if e.Location.File != "fuzz.yaml" || !inFile(e.Location.Line) || e.Message == "" {
					t.Fatalf("error %q at %s, input has %d lines", e.Message, e.Location, lines)
				}
			}
			for _, o := range objs {
				if o.Ref.Kind == "" || o.Ref.APIVersion == "" {
					t.Fatalf("object without kind or apiVersion: %+v", o.Ref)
				}
				if !inFile(o.Source.Line) {
					t.Fatalf("object %s at line %d, input has %d lines", o.Ref, o.Source.Line, lines)
				}
				if _, err := o.JSON(); err != nil {
					continue
				}
				tmpl, err := o.PodTemplate()
				if err != nil || tmpl == nil {
					continue
				}
				for _, c := range tmpl.Containers() {
					for _, p := range []object.Path{c.Path, c.Path.Keys("securityContext", "privileged")} {
						if loc, _ := o.Locate(p); !inFile(loc.Line) {
							t.Fatalf("%s of %s located at line %d, input has %d lines", p, o.Ref, loc.Line, lines)
						}
					}
				}
			}
		}
	})
}
