package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// Parse turns one document into objects. A List (kind v1 List or any
// "...List" with items) yields its items. Problems come back as input
// errors naming the file and line; the objects that could be read are
// still returned.
func Parse(file string, doc Document) ([]*object.Object, []finding.InputError) {
	return parse(nil, file, doc)
}

// Parse is Parse with the objects' trees cut from a: they are valid until
// a.Reset.
func (a *Arena) Parse(file string, doc Document) ([]*object.Object, []finding.InputError) {
	return parse(a, file, doc)
}

func parse(a *Arena, file string, doc Document) ([]*object.Object, []finding.InputError) {
	src := finding.Location{File: file, Line: doc.Line, Template: doc.Template}
	fail := failer(src)
	if len(doc.Data) > MaxDocumentSize {
		return nil, fail(doc.Line, "document is %d bytes, over the limit of %d", len(doc.Data), MaxDocumentSize)
	}
	root, fast := parseFast(doc.Data, a)
	if !fast {
		root = new(yaml.Node)
		if err := yaml.Unmarshal(doc.Data, root); err != nil {
			line, msg := yamlError(err)
			if strings.Contains(msg, "UTF-8") || strings.Contains(msg, "UTF-16") {
				// yaml.v3's encoding errors carry no line: name the one
				// with the first invalid byte.
				line = invalidUTF8Line(doc.Data)
			}
			// Errors at the end of the stream name the line after the
			// last; name the last.
			line = min(line, lineCount(doc.Data))
			return nil, fail(doc.Line+line-1, "%s", msg)
		}
		// The fast subset has no aliases and shallow nesting; a tree from
		// yaml.v3 may have either, and is checked before anything
		// expands it.
		if line, err := checkTree(root); err != nil {
			return nil, fail(doc.Line+line-1, "%v", err)
		}
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	offset := doc.Line - 1
	obj, err := object.New(root, src, offset)
	if err != nil {
		if se, ok := errors.AsType[*object.ScalarError](err); ok {
			// The scalar's own line, not the document's.
			return nil, fail(se.Line, "%s", se.Message()) // already in the file
		}
		if fe, ok := errors.AsType[*object.FieldError](err); ok {
			return nil, fail(fe.Location.Line, "%v", err) // the field's line, in the file
		}
		return nil, fail(doc.Line+firstLine(root)-1, "%v", err)
	}
	if !isList(obj) {
		return []*object.Object{obj}, nil
	}
	var objs []*object.Object
	errs := listItems(obj, src, offset, fail, &objs)
	return objs, errs
}

// failer returns the function that makes an error at a line of src's
// file.
func failer(src finding.Location) func(int, string, ...any) []finding.InputError {
	return func(line int, format string, args ...any) []finding.InputError {
		l := src
		l.Line = line
		return []finding.InputError{{Location: l, Message: fmt.Sprintf(format, args...)}}
	}
}

// parseTree parses data as Parse does, the fast path first, and reports
// false when Parse would refuse it as YAML or for its aliases or nesting.
func parseTree(a *Arena, data []byte) (*yaml.Node, bool) {
	if root, ok := parseFast(data, a); ok {
		return root, true
	}
	root := new(yaml.Node)
	if err := yaml.Unmarshal(data, root); err != nil {
		return nil, false
	}
	if _, err := checkTree(root); err != nil {
		return nil, false
	}
	return root, true
}

// listItems appends the items of a List to objs, the items of a List among
// them in their place (kubectl flattens nested Lists as well), and
// returns the errors of the items that are not objects. Nesting is bounded
// by the tree's (object.MaxDepth).
func listItems(list *object.Object, src finding.Location, offset int, fail func(int, string, ...any) []finding.InputError, objs *[]*object.Object) []finding.InputError {
	items := list.Field(object.Path{}.Key("items"))
	if items == nil || items.Kind != yaml.SequenceNode {
		if items != nil && items.Tag != "!!null" {
			return fail(list.Source.Line, "%s items is not a list", list.Ref.Kind)
		}
		return nil
	}
	return appendItems(list.Ref.Kind, items.Content, src, offset, fail, objs)
}

// appendItems appends the objects of the items of a List of the given kind
// to objs, flattening Lists among them, and returns the errors of those
// that are not objects.
func appendItems(kind string, items []*yaml.Node, src finding.Location, offset int, fail func(int, string, ...any) []finding.InputError, objs *[]*object.Object) []finding.InputError {
	var errs []finding.InputError
	for _, it := range items {
		o, err := object.New(it, src, offset)
		if err != nil {
			if se, ok := errors.AsType[*object.ScalarError](err); ok {
				errs = append(errs, fail(se.Line, "%s item: %s", kind, se.Message())...)
				continue
			}
			if fe, ok := errors.AsType[*object.FieldError](err); ok {
				errs = append(errs, fail(fe.Location.Line, "%s item: %v", kind, err)...)
				continue
			}
			errs = append(errs, fail(offset+it.Line, "%s item: %v", kind, err)...)
			continue
		}
		if isList(o) {
			errs = append(errs, listItems(o, src, offset, fail, objs)...)
			continue
		}
		*objs = append(*objs, o)
	}
	return errs
}

// ParseYAML parses one document's text into a node tree with the parser
// Parse uses (the fast path for the usual subset, yaml.v3 for the rest),
// without the checks Parse adds. The bare-parse baseline of the benchmarks
// measures it.
func ParseYAML(data []byte) (*yaml.Node, error) {
	return parseYAML(nil, data)
}

// ParseYAML is ParseYAML with the tree cut from a: it is valid until
// a.Reset.
func (a *Arena) ParseYAML(data []byte) (*yaml.Node, error) {
	return parseYAML(a, data)
}

func parseYAML(a *Arena, data []byte) (*yaml.Node, error) {
	if root, ok := parseFast(data, a); ok {
		return root, nil
	}
	root := new(yaml.Node)
	if err := yaml.Unmarshal(data, root); err != nil {
		return nil, err
	}
	return root, nil
}

// lineCount is the number of lines of data, the last one's newline
// optional.
func lineCount(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if len(data) == 0 || data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// Limits on what a parsed document may expand to through YAML aliases and
// how deep it may nest; they are those of the conversion in package object,
// applied up front to the whole document so that a hostile one is refused
// before anything expands it.
const (
	MaxExpandedNodes = 1 << 20
	MaxExpandedBytes = object.MaxJSONSize
	MaxDepth         = object.MaxDepth
)

// checkTree refuses a tree that nests deeper than MaxDepth or that YAML
// aliases expand beyond MaxExpandedNodes nodes or MaxExpandedBytes bytes
// (the "billion laughs"), or in which an alias refers to a node that
// contains it. It runs in time linear in the tree: each anchored node's
// expanded size is computed once. It returns the line of the offending
// node (of the document) and the problem.
func checkTree(root *yaml.Node) (int, error) {
	c := treeCheck{memo: map[*yaml.Node]treeSize{}, active: map[*yaml.Node]bool{}}
	_, err := c.size(root, 0)
	return c.line, err
}

// treeSize is what a subtree expands to: nodes, about as many bytes of
// JSON, the number of nested collections on its deepest path, and whether
// aliases are expanded in it. A subtree without aliases is as large as its
// text, which the document size limit bounds: a large literal document (a
// List of a whole cluster, say) is not an expansion.
type treeSize struct {
	nodes, bytes, height int
	aliased              bool
}

func (s treeSize) tooLarge() bool {
	return s.aliased && (s.nodes > MaxExpandedNodes || s.bytes > MaxExpandedBytes)
}

type treeCheck struct {
	memo   map[*yaml.Node]treeSize
	active map[*yaml.Node]bool // anchored nodes being sized: an alias to one is a cycle
	line   int
}

// size measures the subtree at n, which sits inside depth collections.
func (c *treeCheck) size(n *yaml.Node, depth int) (treeSize, error) {
	fail := func(format string, args ...any) (treeSize, error) {
		c.line = max(n.Line, 1)
		return treeSize{}, fmt.Errorf(format, args...)
	}
	inner := depth
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		inner++
	}
	if inner > MaxDepth {
		return fail("nesting deeper than %d levels", MaxDepth)
	}
	if n.Kind == yaml.AliasNode {
		t := n.Alias
		if t == nil {
			return fail("alias *%s refers to no anchor", n.Value)
		}
		if c.active[t] {
			return fail("alias *%s refers to a node that contains it", n.Value)
		}
		s, ok := c.memo[t]
		if !ok {
			var err error
			if s, err = c.size(t, depth); err != nil {
				return s, err
			}
		}
		if depth+s.height > MaxDepth {
			// s.height counts the collections of the target, its own
			// included.
			return fail("alias *%s nests the document deeper than %d levels", n.Value, MaxDepth)
		}
		s.aliased = true
		if s.tooLarge() {
			return fail("YAML aliases expand the document beyond %d nodes or %d bytes (a \"billion laughs\" document)", MaxExpandedNodes, MaxExpandedBytes)
		}
		return s, nil
	}
	if n.Anchor != "" {
		c.active[n] = true
	}
	s := treeSize{nodes: 1, bytes: len(n.Value) + 4}
	for _, k := range n.Content {
		ks, err := c.size(k, inner)
		if err != nil {
			return ks, err
		}
		s.nodes += ks.nodes
		s.bytes += ks.bytes
		s.height = max(s.height, ks.height)
		s.aliased = s.aliased || ks.aliased
		if s.tooLarge() {
			return fail("YAML aliases expand the document beyond %d nodes or %d bytes (a \"billion laughs\" document)", MaxExpandedNodes, MaxExpandedBytes)
		}
	}
	s.height += inner - depth
	if n.Anchor != "" {
		delete(c.active, n)
		c.memo[n] = s
	}
	return s, nil
}

func isList(o *object.Object) bool {
	if !strings.HasSuffix(o.Ref.Kind, "List") {
		return false
	}
	return o.Ref.Kind == "List" || o.Field(object.Path{}.Key("items")) != nil
}

func firstLine(n *yaml.Node) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0].Line
	}
	return n.Line
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError splits a yaml.v3 error into the line it names (1 when none)
// and the message without the "yaml: line N:" prefix.
// invalidUTF8Line is the line of data's first byte that is not valid
// UTF-8, 1 when all are.
func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return 1
}

func yamlError(err error) (int, string) {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		problem := msg[len(m[0]):]
		if parserProblem(problem) {
			// yaml.v3 adds one to the 0-based line of scanner errors
			// but not to that of parser errors.
			n++
		}
		return max(n, 1), "invalid YAML: " + problem
	}
	return 1, "invalid YAML: " + msg
}

// parserProblem reports whether a yaml.v3 error message is one of its
// parser's (rather than its scanner's or decoder's).
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected <document start>", "did not find expected <stream-start>",
		"did not find expected node content", "did not find expected key",
		"did not find expected '-' indicator", "did not find expected ',' or ']'",
		"did not find expected ',' or '}'", "found duplicate %TAG directive",
		"found duplicate %YAML directive", "found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// sniffKind reports whether a document may hold an object of one of the
// given kinds, by looking for the kind's name in the text as a whole word.
// It is a cheap filter before parsing; a false positive costs one parse.
// The name must stand alone because kind names are also parts of common
// field names (ServiceAccount in automountServiceAccountToken, in most
// workloads), and a kind: value written as a plain, quoted or block scalar
// has no letter, digit or underscore beside it.
func sniffKind(d []byte, kinds []string) bool {
	if bytes.IndexByte(d, '\\') >= 0 {
		// A double-quoted scalar may spell the name with escapes, or the
		// text beside it may be an escape: look for the name anywhere.
		for _, k := range kinds {
			if bytes.Contains(d, []byte(k)) {
				return true
			}
		}
		return false
	}
	for _, k := range kinds {
		for rest := d; ; {
			i := bytes.Index(rest, []byte(k))
			if i < 0 {
				break
			}
			end := i + len(k)
			if (i == 0 || !wordByte(rest[i-1])) && (end == len(rest) || !wordByte(rest[end])) {
				return true
			}
			rest = rest[i+1:]
		}
	}
	return false
}

// wordByte reports whether c can be part of a name next to a kind name, so
// that the kind name is only part of a longer word.
func wordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// eachPart hands the objects of doc to fn in parts of at most PartSize
// objects, the document's errors with the first, more telling whether
// parts follow; fn is called at least once. A List of splitMin bytes or
// more is cut into its items before parsing (splitList), so that its tree
// is never whole; any other document is parsed whole. The objects are
// valid until fn returns, or until a.Reset when a is not nil.
func eachPart(a *Arena, file string, doc Document, splitMin int, fn func(objs []*object.Object, errs []finding.InputError, more bool)) {
	if len(doc.Data) >= splitMin && len(doc.Data) <= MaxDocumentSize && splitList(a, file, doc, fn) {
		return
	}
	objs, errs := parse(a, file, doc)
	for {
		part := objs[:min(len(objs), PartSize)]
		objs = objs[len(part):]
		fn(part, errs, len(objs) > 0)
		if len(objs) == 0 {
			return
		}
		errs = nil // the document's errors come with its first part
	}
}
