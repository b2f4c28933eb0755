package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/jsonstring"
)

// indented appends JSON as json.MarshalIndent lays it out, two spaces a
// level, each line after the first starting with the indentation of the
// results in a SARIF log: they are written this way, one by one.
// Reflection over the result types was most of the time a SARIF report
// took.
type indented struct {
	b     []byte
	empty []bool // for each open object or array: nothing in it yet
}

func (w *indented) open(c byte) {
	w.b = append(w.b, c)
	w.empty = append(w.empty, true)
}

// close ends the innermost object or array; an empty one stays {} or [].
func (w *indented) close(c byte) {
	last := w.empty[len(w.empty)-1]
	w.empty = w.empty[:len(w.empty)-1]
	if !last {
		w.newline()
	}
	w.b = append(w.b, c)
}

// newline starts a line at the depth of the innermost open object or
// array.
func (w *indented) newline() { w.b = append(w.b, sarifLines[len(w.empty)]...) }

// sarifLines are the line breaks of a result, with their indentation,
// by depth within it; the result types nest seven deep.
var sarifLines = func() (l [sarifMaxDepth]string) {
	for d := range l {
		l[d] = "\n" + sarifResultPrefix + strings.Repeat("  ", d)
	}
	return l
}()

const sarifMaxDepth = 12

// elem starts an element of the innermost array or object.
func (w *indented) elem() {
	if top := len(w.empty) - 1; w.empty[top] {
		w.empty[top] = false
	} else {
		w.b = append(w.b, ',')
	}
	w.newline()
}

// key starts a member of the innermost object; k needs no escaping.
func (w *indented) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, `": `...)
}

func (w *indented) str(s string) { w.b = jsonstring.AppendReplacing(w.b, s) }

func (w *indented) field(k, v string) {
	w.key(k)
	w.str(v)
}

// omitEmpty writes a string member unless it is empty (omitempty).
func (w *indented) omitEmpty(k, v string) {
	if v != "" {
		w.field(k, v)
	}
}

func (w *indented) int(k string, n int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
}

// appendSARIFResult appends r as json.MarshalIndent writes it at its depth
// in the log, the result types' field order, tags and omitempty rules
// included; TestSARIFResultMatchesMarshal holds the two to each other.
func appendSARIFResult(b []byte, r *sarifResult) []byte {
	var open [sarifMaxDepth]bool
	w := indented{b: b, empty: open[:0]}
	w.open('{')
	w.field("ruleId", r.RuleID)
	w.int("ruleIndex", r.RuleIndex)
	w.field("level", r.Level)
	w.key("message")
	w.message(&r.Message)
	w.key("locations")
	w.locations(r.Locations)
	if len(r.RelatedLocations) > 0 {
		w.key("relatedLocations")
		w.locations(r.RelatedLocations)
	}
	w.key("partialFingerprints")
	w.stringMap(r.PartialFingerprints)
	if len(r.Suppressions) > 0 {
		w.key("suppressions")
		w.open('[')
		for i := range r.Suppressions {
			s := &r.Suppressions[i]
			w.elem()
			w.open('{')
			w.field("kind", s.Kind)
			w.field("status", s.Status)
			w.omitEmpty("justification", s.Justification)
			if s.Location != nil {
				w.key("location")
				w.location(s.Location)
			}
			w.close('}')
		}
		w.close(']')
	}
	w.key("properties")
	p := &r.Properties
	w.open('{')
	w.field("severity", p.Severity)
	w.key("object")
	w.open('{')
	w.field("apiVersion", p.Object.APIVersion)
	w.field("kind", p.Object.Kind)
	w.omitEmpty("namespace", p.Object.Namespace)
	w.field("name", p.Object.Name)
	w.close('}')
	w.omitEmpty("path", p.Path)
	if len(p.Containers) > 0 {
		w.key("containers")
		w.open('[')
		for _, c := range p.Containers {
			w.elem()
			w.str(c)
		}
		w.close(']')
	}
	w.omitEmpty("template", p.Template)
	w.close('}')
	w.close('}')
	return w.b
}

func (w *indented) message(m *sarifMessage) {
	w.open('{')
	w.field("text", m.Text)
	w.omitEmpty("markdown", m.Markdown)
	w.close('}')
}

// locations writes a list of locations; nil is null, as Marshal writes it.
func (w *indented) locations(ls []sarifLocation) {
	if ls == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open('[')
	for i := range ls {
		w.elem()
		w.location(&ls[i])
	}
	w.close(']')
}

func (w *indented) location(l *sarifLocation) {
	w.open('{')
	if l.ID != nil {
		w.int("id", *l.ID)
	}
	if pl := l.PhysicalLocation; pl != nil {
		w.key("physicalLocation")
		w.open('{')
		w.key("artifactLocation")
		w.open('{')
		w.omitEmpty("uri", pl.ArtifactLocation.URI)
		w.omitEmpty("uriBaseId", pl.ArtifactLocation.URIBaseID)
		if d := pl.ArtifactLocation.Description; d != nil {
			w.key("description")
			w.message(d)
		}
		w.close('}')
		if r := pl.Region; r != nil {
			w.key("region")
			w.open('{')
			w.int("startLine", r.StartLine)
			if r.StartColumn != 0 {
				w.int("startColumn", r.StartColumn)
			}
			w.close('}')
		}
		w.close('}')
	}
	if len(l.LogicalLocations) > 0 {
		w.key("logicalLocations")
		w.open('[')
		for _, ll := range l.LogicalLocations {
			w.elem()
			w.open('{')
			w.field("name", ll.Name)
			w.field("fullyQualifiedName", ll.FullyQualifiedName)
			w.field("kind", ll.Kind)
			w.close('}')
		}
		w.close(']')
	}
	if l.Message != nil {
		w.key("message")
		w.message(l.Message)
	}
	w.close('}')
}

// stringMap writes a map with its keys in order, as Marshal does; the
// results' maps hold one key.
func (w *indented) stringMap(m map[string]string) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.open('{')
	for _, k := range keys {
		w.elem()
		w.str(k)
		w.b = append(w.b, ": "...)
		w.str(m[k])
	}
	w.close('}')
}
