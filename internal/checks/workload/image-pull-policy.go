package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	corev1 "k8s.io/api/core/v1"
)

// ImagePullPolicy reports pull policies that let a node run an image the
// registry no longer serves under that name. It follows the API server's
// defaulting: an empty policy is Always for :latest or no tag, and
// IfNotPresent otherwise. It reports
//   - Never on any image not pinned by digest: whatever the node holds
//     under that name runs, and nothing compares it with the registry;
//   - IfNotPresent on :latest or an untagged image: the tag moves by
//     design, and a node that pulled it once keeps the old image.
//
// IfNotPresent on a versioned tag is the Kubernetes default and is left to
// image-digest: any tag can move, but only :latest is expected to.
var ImagePullPolicy = check.Check{
	ID:       "image-pull-policy",
	Title:    "Pull policy lets a stale image run",
	Severity: finding.Medium,
	Category: "Images",
	Rationale: "The Kubernetes images documentation explains that with IfNotPresent or Never the kubelet uses an image already on the node: " +
		"for a tag meant to move, such as :latest, nodes that pulled it at different times run different code, and with Never whatever " +
		"image was placed on the node under that name runs, unverified. Kubernetes itself pulls :latest and untagged images Always.",
	Remediation: "Let the kubelet check the registry on every start:\n" +
		"  imagePullPolicy: Always\n" +
		"or pin the image by digest, which makes IfNotPresent safe:\n" +
		"  image: <repository>:<tag>@sha256:<digest>",
	DocURL: "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",
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
			policy := c.ImagePullPolicy
			if policy == "" {
				policy = corev1.PullPolicy(r.DefaultPullPolicy())
			}
			var detail string
			switch {
			case policy == corev1.PullNever:
				detail = "container " + quote(c.Name) + " never pulls " + quote(c.Image) + ": whatever image the node holds under that name runs, unchecked against the registry"
			case policy == corev1.PullIfNotPresent && r.Floating():
				detail = "container " + quote(c.Name) + " pulls " + quote(c.Image) + " only if absent: a node that pulled it before keeps running that older image"
			default:
				continue
			}
			p.Report(check.Diagnostic{
				Path:       c.Path.Key("imagePullPolicy"),
				Containers: []string{c.Name},
				Reason:     "imagePullPolicy " + string(policy) + " on an image not pinned by digest",
				Detail:     detail,
				Remediation: fix(p, "Let the kubelet check the registry on every start", set(c.Path.Key("imagePullPolicy"), "Always")) +
					"\nor pin the image by digest, which makes IfNotPresent safe:\n  image: " + c.Image + "@sha256:<digest>",
			})
		}
	},
}
