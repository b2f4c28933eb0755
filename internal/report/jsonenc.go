package report

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/jsonstring"
)

// The report's long lists (objects, findings, errors) are written by the
// appenders below instead of encoding/json: at a few hundred thousand
// findings, reflection and the indentation pass json.Encoder makes over its
// own compact output were most of the time spent writing the report. They
// write exactly the bytes json.Encoder with SetIndent("    ", "  ") writes
// for the same values, field order and omitempty rules included;
// TestJSONAppendersMatchEncoder and FuzzJSONAppenders hold them to it, and
// TestJSONAppendersKnowEveryField fails when a field is added to one of the
// types without being added here.

// Indentations of fields at depths 3 to 5: the fields of a list element,
// of an object in it, and of an object in that. Constants, so that no
// element concatenates its own.
const (
	in3 = "\n      "
	in4 = in3 + "  "
	in5 = in4 + "  "
)

// checkQuotes holds, by check ID, the quoted strings every finding of a
// check repeats (its ID, title, category, remediation and doc URL), so that
// a report of a few hundred thousand findings quotes each once per check
// rather than once per finding. A finding whose strings differ from its
// check's (an expired-exemption finding, say) has them quoted as usual.
type checkQuotes map[string]*quotedCheck

type quotedCheck struct {
	check                         *check.Check
	id, title, category, rem, doc []byte
}

func newCheckQuotes(cs []check.Check) checkQuotes {
	q := make(checkQuotes, len(cs))
	for i := range cs {
		c := &cs[i]
		q[c.ID] = &quotedCheck{check: c,
			id: jsonstring.Append(nil, c.ID), title: jsonstring.Append(nil, c.Title), category: jsonstring.Append(nil, c.Category),
			rem: jsonstring.Append(nil, c.Remediation), doc: jsonstring.Append(nil, c.DocURL)}
	}
	return q
}

// unknownCheck stands for a check the report does not list: nothing of it
// is quoted in advance.
var unknownCheck = &quotedCheck{check: &check.Check{}}

// appendKnown appends s quoted, copying quoted when there is one and s is
// known, the string it was made from. Strings of a check shared by its
// findings are the same string, so the comparison is mostly of two
// pointers.
func appendKnown(b []byte, s, known string, quoted []byte) []byte {
	if quoted != nil && s == known {
		return append(b, quoted...)
	}
	return jsonstring.Append(b, s)
}

// appendFinding appends f as one element of a top-level list: the opening
// brace unindented (the caller writes the element's indentation), the
// fields at depth 3.
func appendFinding(b []byte, f *finding.Finding) []byte { return checkQuotes(nil).appendFinding(b, f) }

// appendFinding is appendFinding with the quoted strings of f's check
// taken from q.
func (q checkQuotes) appendFinding(b []byte, f *finding.Finding) []byte {
	b = append(b, '{')
	c := q[f.CheckID]
	if c == nil {
		c = unknownCheck
	}
	b = appendKey(b, in3, "checkID", true)
	b = appendKnown(b, f.CheckID, c.check.ID, c.id)
	b = appendKey(b, in3, "title", false)
	b = appendKnown(b, f.Title, c.check.Title, c.title)
	b = appendKey(b, in3, "severity", false)
	b = appendSeverity(b, f.Severity)
	b = appendKey(b, in3, "category", false)
	b = appendKnown(b, f.Category, c.check.Category, c.category)
	b = appendKey(b, in3, "object", false)
	b = appendObjectRef(b, &f.Object)
	if len(f.Containers) > 0 {
		b = appendKey(b, in3, "containers", false)
		b = appendStrings(b, f.Containers)
	}
	if f.Path != "" {
		b = appendKey(b, in3, "path", false)
		b = jsonstring.Append(b, f.Path)
	}
	b = appendKey(b, in3, "location", false)
	b = appendLocation(b, &f.Location, in3, in4)
	b = appendKey(b, in3, "reason", false)
	b = jsonstring.Append(b, f.Reason)
	if f.Detail != "" {
		b = appendKey(b, in3, "detail", false)
		b = jsonstring.Append(b, f.Detail)
	}
	if len(f.Admission) > 0 {
		b = appendKey(b, in3, "admission", false)
		b = appendStrings(b, f.Admission)
	}
	b = appendKey(b, in3, "remediation", false)
	b = appendKnown(b, f.Remediation, c.check.Remediation, c.rem)
	b = appendKey(b, in3, "docURL", false)
	b = appendKnown(b, f.DocURL, c.check.DocURL, c.doc)
	if s := f.Suppressed; s != nil {
		b = appendKey(b, in3, "suppressed", false)
		b = appendSuppression(b, s)
	}
	return append(b, "\n    }"...)
}

// appendSeverity appends the severity's name quoted. Names (and the
// fallback severity(N)) are plain ASCII, which JSON quoting leaves alone.
func appendSeverity(b []byte, s finding.Severity) []byte {
	b = append(b, '"')
	b = append(b, s.String()...)
	return append(b, '"')
}

// appendObject appends o as one element of a top-level list.
func appendObject(b []byte, o *Object) []byte {
	b = append(b, '{')
	b = appendKey(b, in3, "object", true)
	b = appendObjectRef(b, &o.Ref)
	b = appendKey(b, in3, "location", false)
	b = appendLocation(b, &o.Location, in3, in4)
	return append(b, "\n    }"...)
}

// appendInputError appends e as one element of a top-level list.
func appendInputError(b []byte, e *finding.InputError) []byte {
	b = append(b, '{')
	b = appendKey(b, in3, "location", true)
	b = appendLocation(b, &e.Location, in3, in4)
	b = appendKey(b, in3, "message", false)
	b = jsonstring.Append(b, e.Message)
	return append(b, "\n    }"...)
}

// appendKey starts a field: a comma unless it is the first, the newline
// and indentation in, and the quoted name (names are plain ASCII).
func appendKey(b []byte, in, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, in...)
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':', ' ')
}

// appendObjectRef appends an object reference held by a field at depth 3.
func appendObjectRef(b []byte, r *finding.ObjectRef) []byte {
	b = append(b, '{')
	b = appendKey(b, in4, "apiVersion", true)
	b = jsonstring.Append(b, r.APIVersion)
	b = appendKey(b, in4, "kind", false)
	b = jsonstring.Append(b, r.Kind)
	if r.Namespace != "" {
		b = appendKey(b, in4, "namespace", false)
		b = jsonstring.Append(b, r.Namespace)
	}
	b = appendKey(b, in4, "name", false)
	b = jsonstring.Append(b, r.Name)
	b = append(b, in3...)
	return append(b, '}')
}

// appendLocation appends a location held by a field indented by in, its
// fields indented by inner.
func appendLocation(b []byte, l *finding.Location, in, inner string) []byte {
	b = append(b, '{')
	b = appendKey(b, inner, "file", true)
	b = jsonstring.Append(b, l.File)
	if l.Line != 0 {
		b = appendKey(b, inner, "line", false)
		b = strconv.AppendInt(b, int64(l.Line), 10)
	}
	if l.Column != 0 {
		b = appendKey(b, inner, "column", false)
		b = strconv.AppendInt(b, int64(l.Column), 10)
	}
	if l.Template != "" {
		b = appendKey(b, inner, "template", false)
		b = jsonstring.Append(b, l.Template)
	}
	b = append(b, in...)
	return append(b, '}')
}

// appendSuppression appends a suppression held by a field at depth 3.
func appendSuppression(b []byte, s *finding.Suppression) []byte {
	b = append(b, '{')
	b = appendKey(b, in4, "kind", true)
	b = jsonstring.Append(b, s.Kind)
	if s.Reason != "" {
		b = appendKey(b, in4, "reason", false)
		b = jsonstring.Append(b, s.Reason)
	}
	if s.Location != nil {
		b = appendKey(b, in4, "location", false)
		b = appendLocation(b, s.Location, in4, in5)
	}
	b = append(b, in3...)
	return append(b, '}')
}

// appendStrings appends a non-empty list of strings held by a field at
// depth 3, one per line.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in4...)
		b = jsonstring.Append(b, s)
	}
	b = append(b, in3...)
	return append(b, ']')
}
