package input

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// maxDuplicateFields bounds the findings of one object: a generated file
// repeating a key thousands of times needs a few to be found.
const maxDuplicateFields = 10

// DuplicateField reports a key written twice in one mapping, at the
// earlier copy: kubectl, Helm and the API server keep the last value and
// drop the earlier without a word (kubernetes/kubernetes#99286), so a
// securityContext or an envFrom written twice is not what a reviewer of
// the file reads. Every check judges the value kept, as the cluster
// would.
var DuplicateField = check.Check{
	ID:            "duplicate-field",
	Title:         "Field written twice",
	Severity:      finding.Low,
	Category:      Category,
	Scope:         check.ScopeObject,
	SkipAdmission: "an admission request's object is JSON the API server wrote, without a key twice",
	Rationale: "YAML lets a mapping repeat a key; Kubernetes clients keep its last value and drop the others in silence. " +
		"A reviewer who reads the first copy (a hardened securityContext, a second envFrom) reads a setting the cluster never gets, " +
		"and kubeguard, like the cluster, judges the last.",
	Remediation: "Delete the earlier copy of the key, or merge the two into one, keeping what is meant.",
	DocURL:      "https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation",
	Kinds:       []string{check.AnyKind},
	Run: func(p *check.Pass) {
		for _, d := range p.Object.Duplicates(maxDuplicateFields) {
			reason := "written again at line " + strconv.Itoa(d.Kept.Line) + ", the copy applied; this one is dropped"
			switch {
			case d.Merged:
				reason = "overridden by the same key the merge key (<<) at line " + strconv.Itoa(d.Kept.Line) +
					" brings: kubectl reads merged keys at the merge's place, so the later one is applied; this one is dropped"
			case d.Unordered:
				reason = "written again at line " + strconv.Itoa(d.Kept.Line) + " as a key of another type (1 and \"1\"): kubectl applies either copy, by chance; kubeguard judges the later"
			}
			p.Report(check.Diagnostic{Path: d.Path, At: &d.Dropped, Reason: reason})
		}
	},
}
