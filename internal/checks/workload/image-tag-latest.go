package workload

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ImageTagLatest reports images with the :latest tag or no tag at all
// (which means :latest), unless a digest pins them. References that do not
// parse are left to the kubelet, which refuses them.
var ImageTagLatest = check.Check{
	ID:       "image-tag-latest",
	Title:    "Image without a tag or with :latest",
	Severity: finding.Medium,
	Category: "Images",
	Rationale: "The Kubernetes images documentation advises against the :latest tag in production: it is harder to tell which version " +
		"of the image is running and harder to roll back, and the same manifest can start different code on different nodes or days, " +
		"including code nobody reviewed.",
	Remediation: "Name a version, and preferably pin the digest:\n" +
		"  image: <repository>:<version>@sha256:<digest>",
	DocURL: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		for _, c := range p.Template.Containers() {
			if c.Kind == "ephemeralContainers" {
				continue // debugging containers are added by hand, not shipped
			}
			r, err := parseImage(c.Image)
			if err != nil || !r.Floating() {
				continue
			}
			reason, why := "image has no tag", ", which names no tag and so means :latest"
			if r.Tag == "latest" {
				reason, why = "image uses the latest tag", ""
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Key("image"),
				Containers: []string{c.Name},
				Reason:     reason,
				// The version and digest are the registry's to say: the
				// fix leaves them as slots to fill.
				Remediation: fix(p, "Name a version, and preferably pin the digest; fill in the <version> and <digest> of the image you mean",
					set(c.Path.Key("image"), strings.TrimSuffix(c.Image, ":latest")+":<version>@sha256:<digest>")),
				Detail: "container " + quote(c.Name) + " runs image " + quote(c.Image) + why +
					": what runs changes whenever the tag is pushed, and a rollback cannot bring the previous version back",
			})
		}
	},
}
