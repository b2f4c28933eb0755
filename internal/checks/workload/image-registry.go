package workload

import (
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// ImageRegistry reports images from registries outside
// Options.AllowedRegistries, and does nothing when that list is empty.
//
// An allowed entry is a registry host (with its port, if it has one) or a
// registry and path prefix, matched whole component by whole component
// against the image's fully qualified name: "registry.example.com" allows
// registry.example.com/team/app but not registry.example.com.evil.io/app,
// and "docker.io/library" allows the official images ("nginx" is
// docker.io/library/nginx). Hosts compare case-insensitively, and
// index.docker.io is docker.io. Ephemeral containers are checked too: a
// debugging image runs inside the pod like any other. A reference that does
// not parse is reported, since its registry cannot be told.
var ImageRegistry = check.Check{
	ID:       "image-registry",
	Title:    "Image from a registry not allowed",
	Severity: finding.High,
	Category: "Images",
	Rationale: "The Kubernetes security checklist asks that the provenance of every image be established, by digest or by a signature " +
		"verified at admission. Those controls live in the registries an organisation trusts; an image from any other registry " +
		"has not been through its scanning, signing and review. The check runs only when allowed registries are configured.",
	Remediation: "Mirror or rebuild the image into an allowed registry and refer to it there:\n" +
		"  image: registry.example.com/mirror/nginx:1.27.3@sha256:<digest>\n" +
		"or, if its registry is trusted, add it to .kubeguard.yaml:\n" +
		"  parameters:\n    allowedRegistries: [registry.example.com, ghcr.io/example-org]",
	DocURL: "https://kubernetes.io/docs/concepts/security/security-checklist/#images",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		allowed := p.Context.Options.AllowedRegistries
		if len(allowed) == 0 {
			return
		}
		for _, c := range p.Template.Containers() {
			if c.Image == "" {
				continue // left for a controller or a later tool to fill in
			}
			r, err := parseImage(c.Image)
			switch {
			case err != nil:
				p.Report(check.Diagnostic{
					Path:       c.Path.Key("image"),
					Containers: []string{c.Name},
					Reason:     "image reference is not valid",
					Detail:     "container " + quote(c.Name) + " names image " + quote(c.Image) + " (" + err.Error() + "), so its registry cannot be checked",
				})
			case !registryAllowed(r, allowed):
				p.Report(check.Diagnostic{
					Path:       c.Path.Key("image"),
					Containers: []string{c.Name},
					Reason:     "image not from an allowed registry",
					Detail: "container " + quote(c.Name) + " runs " + r.Name() + ", which is not under an allowed registry (" +
						strings.Join(allowed, ", ") + ")",
				})
			}
		}
	},
}

// registryAllowed reports whether the image's name equals an allowed
// entry or lies under it.
func registryAllowed(r imageRef, allowed []string) bool {
	name := strings.ToLower(r.Domain) + "/" + r.Path
	for _, a := range allowed {
		a = strings.TrimRight(strings.TrimSpace(a), "/")
		if a == "" {
			continue
		}
		host, rest, hasPath := strings.Cut(a, "/")
		a = strings.ToLower(canonicalDomain(host))
		if hasPath {
			a += "/" + rest
		}
		if name == a || strings.HasPrefix(name, a+"/") {
			return true
		}
	}
	return false
}
