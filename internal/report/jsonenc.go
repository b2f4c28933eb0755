package report

import (
	"github.com/kubeguard/kubeguard/internal/jsonstring"
	"strconv"

	"github.com/kubeguard/kubeguard/internal/finding"
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

// appendFinding appends f as one element of a top-level list: the opening
// brace unindented (the caller writes the element's indentation), the
// fields at depth 3.
func appendFinding(b []byte, f *finding.Finding) []byte {
	const in = "\n      "
	b = append(b, '{')
	b = appendKey(b, in, "checkID", true)
	b = jsonstring.Append(b, f.CheckID)
	b = appendKey(b, in, "title", false)
	b = jsonstring.Append(b, f.Title)
	b = appendKey(b, in, "severity", false)
	b = jsonstring.Append(b, f.Severity.String())
	b = appendKey(b, in, "category", false)
	b = jsonstring.Append(b, f.Category)
	b = appendKey(b, in, "object", false)
	b = appendObjectRef(b, &f.Object, in)
	if len(f.Containers) > 0 {
		b = appendKey(b, in, "containers", false)
		b = appendStrings(b, f.Containers, in)
	}
	if f.Path != "" {
		b = appendKey(b, in, "path", false)
		b = jsonstring.Append(b, f.Path)
	}
	b = appendKey(b, in, "location", false)
	b = appendLocation(b, &f.Location, in)
	b = appendKey(b, in, "reason", false)
	b = jsonstring.Append(b, f.Reason)
	if f.Detail != "" {
		b = appendKey(b, in, "detail", false)
		b = jsonstring.Append(b, f.Detail)
	}
	if len(f.Admission) > 0 {
		b = appendKey(b, in, "admission", false)
		b = appendStrings(b, f.Admission, in)
	}
	b = appendKey(b, in, "remediation", false)
	b = jsonstring.Append(b, f.Remediation)
	b = appendKey(b, in, "docURL", false)
	b = jsonstring.Append(b, f.DocURL)
	if s := f.Suppressed; s != nil {
		b = appendKey(b, in, "suppressed", false)
		b = appendSuppression(b, s, in)
	}
	return append(b, "\n    }"...)
}

// appendObject appends o as one element of a top-level list.
func appendObject(b []byte, o *Object) []byte {
	const in = "\n      "
	b = append(b, '{')
	b = appendKey(b, in, "object", true)
	b = appendObjectRef(b, &o.Ref, in)
	b = appendKey(b, in, "location", false)
	b = appendLocation(b, &o.Location, in)
	return append(b, "\n    }"...)
}

// appendInputError appends e as one element of a top-level list.
func appendInputError(b []byte, e *finding.InputError) []byte {
	const in = "\n      "
	b = append(b, '{')
	b = appendKey(b, in, "location", true)
	b = appendLocation(b, &e.Location, in)
	b = appendKey(b, in, "message", false)
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

// appendObjectRef appends an object whose fields are one level deeper
// than in, the indentation of the field holding it.
func appendObjectRef(b []byte, r *finding.ObjectRef, in string) []byte {
	inner := in + "  "
	b = append(b, '{')
	b = appendKey(b, inner, "apiVersion", true)
	b = jsonstring.Append(b, r.APIVersion)
	b = appendKey(b, inner, "kind", false)
	b = jsonstring.Append(b, r.Kind)
	if r.Namespace != "" {
		b = appendKey(b, inner, "namespace", false)
		b = jsonstring.Append(b, r.Namespace)
	}
	b = appendKey(b, inner, "name", false)
	b = jsonstring.Append(b, r.Name)
	b = append(b, in...)
	return append(b, '}')
}

func appendLocation(b []byte, l *finding.Location, in string) []byte {
	inner := in + "  "
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

func appendSuppression(b []byte, s *finding.Suppression, in string) []byte {
	inner := in + "  "
	b = append(b, '{')
	b = appendKey(b, inner, "kind", true)
	b = jsonstring.Append(b, s.Kind)
	if s.Reason != "" {
		b = appendKey(b, inner, "reason", false)
		b = jsonstring.Append(b, s.Reason)
	}
	if s.Location != nil {
		b = appendKey(b, inner, "location", false)
		b = appendLocation(b, s.Location, inner)
	}
	b = append(b, in...)
	return append(b, '}')
}

// appendStrings appends a non-empty list of strings, one per line.
func appendStrings(b []byte, ss []string, in string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, in...)
		b = append(b, ' ', ' ')
		b = jsonstring.Append(b, s)
	}
	b = append(b, in...)
	return append(b, ']')
}
