package manifest

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// parsed is what a document gives, written out node by node with file
// lines, so that two ways of parsing it can be compared.
type parsed struct {
	Objects []string
	Errors  []finding.InputError
	Parts   int
}

func dumpObject(o *object.Object) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s @%s labels=%v annotations=%v\n", o.Ref, o.Source, o.Labels, o.Annotations)
	root := o.Field(object.Path{})
	offset := o.Source.Line - root.Line
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		fmt.Fprintf(&b, "%*s%d %d %q %q %q %d:%d\n", depth, "", n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Line+offset, n.Column)
		for _, k := range n.Content {
			walk(k, depth+1)
		}
	}
	walk(root, 0)
	if j, err := o.JSON(); err == nil {
		b.Write(j)
	} else {
		b.WriteString(err.Error())
	}
	return b.String()
}

// parseWhole is what Parse gives, in the form parseSplit gives it.
func parseWhole(file string, d Document) parsed {
	objs, errs := Parse(file, d)
	var p parsed
	for _, o := range objs {
		p.Objects = append(p.Objects, dumpObject(o))
	}
	p.Errors = errs
	return p
}

// parseSplit is what the cut of a List into its items gives, and whether
// it was cut.
func parseSplit(t testing.TB, a *Arena, file string, d Document) (parsed, bool) {
	var p parsed
	cut := splitList(a, file, d, func(objs []*object.Object, errs []finding.InputError, more bool) {
		if len(objs) > PartSize {
			t.Errorf("a part of %d objects", len(objs))
		}
		if p.Parts > 0 && errs != nil {
			t.Errorf("errors in part %d", p.Parts)
		}
		p.Parts++
		p.Errors = append(p.Errors, errs...)
		for _, o := range objs {
			p.Objects = append(p.Objects, dumpObject(o))
		}
	})
	if a != nil {
		a.Reset()
	}
	return p, cut
}

// checkSplit fails when the cut of data's documents gives anything the
// whole parse does not, and returns how many documents were cut.
func checkSplit(t testing.TB, a *Arena, name string, data []byte) int {
	cut := 0
	for _, d := range Split(data) {
		whole := parseWhole(name, d)
		split, ok := parseSplit(t, a, name, d)
		if !ok {
			continue
		}
		cut++
		split.Parts, whole.Parts = 0, 0
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("%s, document at line %d: cut into items (+) differs from the whole parse (-):\n%s", name, d.Line, diff)
		}
	}
	return cut
}

// listCase is a List and whether it is cut rather than parsed whole.
type listCase struct {
	name string
	data string
	cut  bool
}

// listCases are Lists in the forms kubectl writes and the odd ones around
// them: the table of TestListSplitMatchesWhole and seeds of its fuzzer.
func listCases() []listCase {
	pod := func(i int) string {
		return fmt.Sprintf("apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p%d\n    labels: {app: x}\n  spec:\n    containers:\n    - name: c\n      image: nginx\n      securityContext: {privileged: true}\n", i)
	}
	many := func(n int, item func(int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(item(i))
		}
		return b.String()
	}
	jsonPod := func(i int) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","annotations":{"a":"ü,]}"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`, i)
	}
	return []listCase{
		{"kubectl yaml", "apiVersion: v1\nitems:\n" + many(600, func(i int) string { return "- " + pod(i) }) + "kind: List\nmetadata:\n  resourceVersion: \"\"\n", true},
		{"kind first", "apiVersion: v1\nkind: List\nitems:\n" + many(3, func(i int) string { return "- " + pod(i) }), true},
		{"typed list", "apiVersion: v1\nkind: PodList\nmetadata: {}\nitems:\n" + many(3, func(i int) string { return "- " + pod(i) }), true},
		{"indented", "apiVersion: v1\nkind: List\nitems:\n" + many(300, func(i int) string {
			return "  - " + strings.ReplaceAll(pod(i), "\n  ", "\n    ")
		}) + "metadata: {}\n", true},
		{"comments and blank lines", "# a list\napiVersion: v1\nkind: List\nitems: # the items\n\n# first\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n\n  # inside\n-   apiVersion: v1\n    kind: Pod\n    metadata: {name: b}\n-\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: c}\n# last\n", true},
		{"not objects", "apiVersion: v1\nkind: List\nitems:\n- a\n-\n- [1, 2]\n- kind: Pod\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ok}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: !!int x}\n", true},
		{"nested lists", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: in}\n  - 3\n- apiVersion: v1\n  kind: ConfigMapList\n  items: 3\n- apiVersion: v1\n  kind: PodList\n  items: null\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: out}\n", true},
		{"broken item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: [b}\n", false},
		{"quote across items", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: \"a\n- b\"}\n", false},
		{"alias across items", "apiVersion: v1\nkind: List\nitems:\n- &p {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- *p\n", false},
		{"anchor in an item", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: &m {name: a}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n", true},
		{"non-ASCII and tabs", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a, annotations: {d: \"héllo\tworld\"}}\n", true},
		{"CRLF", strings.ReplaceAll("apiVersion: v1\nkind: List\nitems:\n"+many(3, func(i int) string { return "- " + pod(i) })+"-\n  apiVersion: v1\n  kind: Pod\n\n", "\n", "\r\n"), true},
		{"not a list", "apiVersion: v1\nkind: Pod\nitems:\n- a\n", false},
		{"items twice", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n", false},
		{"merge over items", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n<<: {items: []}\n", false},
		{"no kind", "apiVersion: v1\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n", false},
		{"flow items in block", "apiVersion: v1\nkind: List\nitems: [" + many(300, func(i int) string { return jsonPod(i) + ",\n " }) + "{apiVersion: v1, kind: Pod, metadata: {name: last}}]\n", true},
		{"json", `{"apiVersion": "v1", "kind": "List", "items": [` + many(300, func(i int) string { return "\n    " + jsonPod(i) + "," }) + "\n" + jsonPod(300) + "\n]}\n", true},
		{"json items first", `{"apiVersion":"v1","items":[` + many(700, func(i int) string { return jsonPod(i) + "," }) + jsonPod(700) + `],"kind":"List","metadata":{"resourceVersion":""}}`, true},
		{"json trailing comma", `{"apiVersion":"v1","kind":"List","items":[` + jsonPod(0) + `,` + jsonPod(1) + `, ]}`, true},
		{"json not objects", `{"apiVersion":"v1","kind":"List","items":[1, "a", null, [], {"kind": "Pod"}, ` + jsonPod(1) + `]}`, true},
		{"json empty item", `{"apiVersion":"v1","kind":"List","items":[` + jsonPod(0) + `,,` + jsonPod(1) + `]}`, false},
		{"json broken", `{"apiVersion":"v1","kind":"List","items":[` + jsonPod(0) + `,` + jsonPod(1) + `}`, false},
		{"json comment", "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[ # c\n" + jsonPod(0) + "]}", false},
		{"json nested list", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"List","items":[` + jsonPod(0) + `,` + jsonPod(1) + `]}]}`, true},
		{"json escapes", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a\"],{\\"}}, {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\/"}}]}`, false},
		{"json list key in item", `{"apiVersion":"v1","kind":"List","x":{"items":[1]},"items":[` + jsonPod(0) + `]}`, true},
		{"empty", "apiVersion: v1\nkind: List\nitems: []\n", false},
	}
}

// TestListSplitMatchesWhole holds the cut of a List into its items to the
// whole parse: the same objects, node for node with their lines and
// columns, and the same errors, for the forms kubectl writes and the odd
// ones around them.
func TestListSplitMatchesWhole(t *testing.T) {
	tests := listCases()
	var a Arena
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := Split([]byte(tt.data))
			if len(docs) != 1 {
				t.Fatalf("%d documents", len(docs))
			}
			if n := checkSplit(t, &a, "list.yaml", []byte(tt.data)); (n == 1) != tt.cut {
				t.Errorf("cut: %v, want %v", n == 1, tt.cut)
			}
			// And with no arena, as the collecting pass parses.
			checkSplit(t, nil, "list.yaml", []byte(tt.data))
		})
	}
}

// TestListSplitMatchesWholeOnFiles holds the cut to the whole parse on
// every manifest of the repository: the real-world corpus, the examples
// and the checks' fixtures, each document cut as if it were large.
func TestListSplitMatchesWholeOnFiles(t *testing.T) {
	files, cut := 0, 0
	var a Arena
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".cache" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) > MaxDocumentSize {
			return err
		}
		files++
		cut += checkSplit(t, &a, path, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 || cut == 0 {
		t.Fatalf("%d files found, %d Lists cut", files, cut)
	}
	t.Logf("%d files, %d Lists cut", files, cut)
}

// FuzzListSplitMatchesWhole holds the cut of a List into its items to the
// whole parse on any input: where a document is cut, the objects (node by
// node, with lines and columns) and errors are those of the whole parse.
func FuzzListSplitMatchesWhole(f *testing.F) {
	for _, c := range listCases() {
		if len(c.data) < 64<<10 {
			f.Add([]byte(c.data))
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\n"))
	f.Add([]byte(`{"kind":"PodList","apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Pod"}]}`))
	var a Arena
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSplit(t, &a, "fuzz.yaml", data)
	})
}
