// Package manifest reads Kubernetes manifests: files, directories, standard
// input and rendered Helm or Kustomize output, as a stream of objects that
// remember where in the source they came from.
package manifest

import (
	"bytes"
	"iter"
	"slices"
)

// Document is one YAML document of a stream.
type Document struct {
	// Data is the document's text.
	Data []byte
	// Line is the line of the file on which Data starts (1-based).
	Line int
	// Template is the Helm template named by a "# Source:" comment in the
	// document's leading comments, if any.
	Template string
}

// Split cuts a YAML stream into documents at "---" and "..." marker lines.
// A marker is three dashes or dots at the start of a line followed by white
// space or the line's end; YAML forbids such a line inside content, so the
// cut is exact without parsing. Documents with no content are dropped.
func Split(data []byte) []Document { return slices.Collect(Documents(data)) }

// Documents yields the documents Split cuts data into, each as soon as
// its end is found, so that parsing a large file's first documents need
// not wait for the cut of its last.
func Documents(data []byte) iter.Seq[Document] {
	return func(yield func(Document) bool) {
		start, startLine := 0, 1
		line := 1
		flush := func(end int) bool {
			d := data[start:end]
			if !hasContent(d) {
				return true
			}
			first := startLine
			if d[0] == '-' && marker(d) {
				if nl := bytes.IndexByte(d, '\n'); nl >= 0 && len(bytes.TrimLeft(d[3:nl], " \t\r")) == 0 {
					// Nothing else on the marker's line: the document
					// starts on the next.
					d, first = d[nl+1:], first+1
				} else {
					// The rest of a "---" line can hold content ("---
					// {a: 1}"); it is kept, the marker blanked so that
					// columns stay right.
					d = append([]byte("   "), d[3:]...)
				}
			}
			return yield(Document{Data: d, Line: first, Template: helmSource(d)})
		}
		for i := 0; i < len(data); {
			j := bytes.IndexByte(data[i:], '\n')
			next := len(data)
			if j >= 0 {
				next = i + j + 1
			}
			if marker(data[i:next]) {
				if !flush(i) {
					return
				}
				if data[i] == '-' {
					start, startLine = i, line
				} else {
					start, startLine = next, line+1
				}
			}
			i = next
			line++
		}
		flush(len(data))
	}
}

func marker(l []byte) bool {
	if len(l) < 3 || !(bytes.HasPrefix(l, []byte("---")) || bytes.HasPrefix(l, []byte("..."))) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\n' || l[3] == '\r'
}

// hasContent reports whether a document holds anything but blank lines,
// comments and directives.
func hasContent(d []byte) bool {
	for len(d) > 0 {
		l := d
		if j := bytes.IndexByte(d, '\n'); j >= 0 {
			l, d = d[:j], d[j+1:]
		} else {
			d = nil
		}
		l = bytes.TrimLeft(l, " \t\r")
		if bytes.HasPrefix(l, []byte("---")) && marker(l) {
			l = bytes.TrimLeft(l[3:], " \t\r")
		}
		if len(l) > 0 && l[0] != '#' && l[0] != '%' {
			return true
		}
	}
	return false
}

// helmSource returns the path in a "# Source: chart/templates/x.yaml"
// comment among the document's leading comment lines.
func helmSource(d []byte) string {
	for len(d) > 0 {
		l := d
		if j := bytes.IndexByte(d, '\n'); j >= 0 {
			l, d = d[:j], d[j+1:]
		} else {
			d = nil
		}
		l = bytes.TrimSpace(l)
		if bytes.HasPrefix(l, []byte("---")) {
			l = bytes.TrimSpace(l[3:])
		}
		if len(l) == 0 {
			continue
		}
		if l[0] != '#' {
			return ""
		}
		if rest, ok := bytes.CutPrefix(bytes.TrimSpace(l[1:]), []byte("Source:")); ok {
			return string(bytes.TrimSpace(rest))
		}
	}
	return ""
}
