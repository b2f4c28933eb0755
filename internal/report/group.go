package report

import "github.com/kubeguard/kubeguard/internal/finding"

// objectFindings is one object and what was found in it.
type objectFindings struct {
	Object   Object
	Findings []*finding.Finding // into the report's list, not copies
}

type objectKey struct {
	ref  finding.ObjectRef
	file string
}

// byObject groups the findings under the scanned objects, in input order,
// and keeps every object, findings or not. Formats that report per object
// need this because the findings alone do not say which objects passed.
//
// Findings about something that was not scanned as an object (an expired
// exemption names the configuration file) get groups of their own after
// the scanned objects. The same reference in one file (a duplicated
// document) is told apart by line: a finding belongs to the last such
// object that starts at or before it.
func byObject(objects []Object, findings []finding.Finding) []objectFindings {
	groups := make([]objectFindings, 0, len(objects))
	index := map[objectKey][]int{}
	for _, o := range objects {
		k := objectKey{o.Ref, o.Location.File}
		index[k] = append(index[k], len(groups))
		groups = append(groups, objectFindings{Object: o})
	}
	extra := map[objectKey]int{}
	for i := range findings {
		f := &findings[i]
		k := objectKey{f.Object, f.Location.File}
		var g int
		if cands := index[k]; len(cands) > 0 {
			g = cands[0]
			for _, c := range cands[1:] {
				if l := groups[c].Object.Location.Line; l > 0 && l <= f.Location.Line {
					g = c
				}
			}
		} else if i, ok := extra[k]; ok {
			g = i
		} else {
			g = len(groups)
			extra[k] = g
			groups = append(groups, objectFindings{Object: Object{
				Ref:      f.Object,
				Location: finding.Location{File: f.Location.File, Template: f.Location.Template},
			}})
		}
		groups[g].Findings = append(groups[g].Findings, f)
	}
	return groups
}

// pointers points at each of fs, for the formats that group findings.
func pointers(fs []finding.Finding) []*finding.Finding {
	ps := make([]*finding.Finding, len(fs))
	for i := range fs {
		ps[i] = &fs[i]
	}
	return ps
}

// active reports whether f counts: it is not suppressed.
func active(f *finding.Finding) bool { return f.Suppressed == nil }
