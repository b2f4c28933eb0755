package suppress

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// InvalidSuppression returns the check that reports ignore annotations
// kubeguard cannot honour: without a reason, or naming no known check.
// Such an annotation suppresses nothing, so the findings it meant to waive
// still fail the scan; this check says why.
func InvalidSuppression(known func(id string) bool) check.Check {
	return check.Check{
		ID:       "invalid-suppression",
		Title:    "Ignore annotation not honoured",
		Severity: finding.Medium,
		Category: "kubeguard configuration",
		Rationale: "A waiver must say which checks it waives and why, so that reviewers can judge it; " +
			"kubeguard ignores annotations without a reason or with unknown check IDs.",
		Remediation: `Write the annotation as "<check-id>[,<check-id>] -- <reason>", for example:
  metadata:
    annotations:
      kubeguard.io/ignore: "image-digest -- vendor image, tracked in OPS-12"
      kubeguard.io/ignore.proxy: "pss-runAsNonRoot -- injected by the mesh"`,
		DocURL: "https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/",
		Kinds:  []string{check.AnyKind},
		// Whoever writes an object would be waiving their own findings, so
		// admission never honours ignore annotations.
		SkipAdmission: "admission does not honour ignore annotations",
		Run: func(p *check.Pass) {
			rules, bad := Rules(p.Object)
			keys := make([]string, 0, len(bad))
			for k := range bad {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				path, _ := object.ParsePath(k)
				p.Report(check.Diagnostic{Path: path, Reason: "malformed ignore annotation", Detail: bad[k].Error()})
			}
			for _, r := range rules {
				var unknown []string
				for _, id := range r.IDs {
					if !known(id) {
						unknown = append(unknown, id)
					}
				}
				if len(unknown) > 0 {
					p.Report(check.Diagnostic{Path: r.Path, Reason: "ignore annotation names unknown checks",
						Detail: fmt.Sprintf("%s (see kubeguard checks)", strings.Join(unknown, ", "))})
				}
			}
		},
	}
}

// ExpiredExemption is reported, once per exemption, when an exemption in
// .kubeguard.yaml has passed its expiry date and so no longer applies.
var ExpiredExemption = check.Check{
	ID:       "expired-exemption",
	Scope:    check.ScopeConfig,
	Title:    "Exemption expired",
	Severity: finding.Medium,
	Category: "kubeguard configuration",
	Rationale: "Exemptions are meant to be temporary; once expired they stop applying, " +
		"and the findings they covered count again.",
	Remediation: "Fix the findings the exemption covered and delete it, or renew it with a new reason and expiry date:\n" +
		"  exemptions:\n  - checks: [pss-privileged]\n    name: node-agent\n    reason: <why, and who owns it>\n    expires: 2027-06-30",
	DocURL: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
}
