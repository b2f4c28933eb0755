package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ImageDigest reports images not pinned by digest. It fires on :latest and
// untagged images too, beside image-tag-latest: the two say different
// things and are suppressed separately.
var ImageDigest = check.Check{
	ID:       "image-digest",
	Title:    "Image not pinned by digest",
	Severity: finding.Low,
	Category: "Images",
	Rationale: "The Kubernetes security checklist asks that images be referred to by sha256 digest rather than by tag (or their signatures " +
		"verified at admission): a tag can be moved to other content, a digest always names the same bytes, so every node runs exactly " +
		"the image that was built, scanned and approved.",
	Remediation: "Pin the image by digest (the tag may stay for readers; the runtime ignores it):\n" +
		"  image: <repository>:<tag>@sha256:<digest>",
	DocURL: "https://kubernetes.io/docs/concepts/security/security-checklist/#images",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // debugging containers are added by hand, not shipped
			}
			r, err := parseImage(c.Image)
			if err != nil || r.Pinned() {
				continue
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Key("image"),
				Containers: []string{c.Name},
				Reason:     "image not pinned by digest",
				// The fix pins the container's own image, its tag kept;
				// the digest is the registry's to say.
				Remediation: fix(p, "Pin the image by digest (the tag may stay for readers; the runtime ignores it); fill in the <digest> the registry gives for it",
					set(c.Path.Key("image"), c.Image+"@sha256:<digest>")),
				Detail: "container " + quote(c.Name) + " runs image " + quote(c.Image) + ", whose tag the registry can point at other content",
			})
		}
	},
}
