package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
)

// Parse turns one document into objects. A List (kind v1 List or any
// "...List" with items) yields its items. Problems come back as input
// errors naming the file and line; the objects that could be read are
// still returned.
func Parse(file string, doc Document) ([]*object.Object, []finding.InputError) {
	src := finding.Location{File: file, Line: doc.Line, Template: doc.Template}
	fail := func(line int, format string, args ...any) []finding.InputError {
		l := src
		l.Line = line
		return []finding.InputError{{Location: l, Message: fmt.Sprintf(format, args...)}}
	}
	if len(doc.Data) > MaxDocumentSize {
		return nil, fail(doc.Line, "document is %d bytes, over the limit of %d", len(doc.Data), MaxDocumentSize)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc.Data, &root); err != nil {
		line, msg := yamlError(err)
		return nil, fail(doc.Line+line-1, "%s", msg)
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	offset := doc.Line - 1
	obj, err := object.New(&root, src, offset)
	if err != nil {
		return nil, fail(doc.Line+firstLine(&root)-1, "%v", err)
	}
	if !isList(obj) {
		return []*object.Object{obj}, nil
	}
	items := obj.Field(object.Path{}.Key("items"))
	if items == nil || items.Kind != yaml.SequenceNode {
		if items != nil && items.Tag != "!!null" {
			return nil, fail(obj.Source.Line, "%s items is not a list", obj.Ref.Kind)
		}
		return nil, nil
	}
	var objs []*object.Object
	var errs []finding.InputError
	for _, it := range items.Content {
		o, err := object.New(it, src, offset)
		if err != nil {
			errs = append(errs, fail(offset+it.Line, "%s item: %v", obj.Ref.Kind, err)...)
			continue
		}
		objs = append(objs, o)
	}
	return objs, errs
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
func yamlError(err error) (int, string) {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return max(n, 1), "invalid YAML: " + msg[len(m[0]):]
	}
	return 1, "invalid YAML: " + msg
}

// sniffKind reports whether a document may hold an object of one of the
// given kinds, by looking for the kind's name in the text. It is a cheap
// filter before parsing; a false positive costs one parse.
func sniffKind(d []byte, kinds []string) bool {
	for _, k := range kinds {
		if bytes.Contains(d, []byte(k)) {
			return true
		}
	}
	return false
}
