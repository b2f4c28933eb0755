package workload

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// imageRef is a container image reference split the way the kubelet and
// container runtimes read it (the grammar of the distribution project's
// reference package), with Docker Hub's implicit names made explicit:
// "nginx" is docker.io/library/nginx.
type imageRef struct {
	// Domain is the registry host as written, with its port when one is
	// given; docker.io when the reference names none.
	Domain string
	// Path is the repository path within the registry.
	Path string
	// Tag is the tag as written, empty when there is none.
	Tag string
	// Digest is "algorithm:hex" as written, empty when there is none.
	Digest string
}

const (
	dockerHub       = "docker.io"
	maxNameLength   = 255
	maxTagLength    = 128
	minDigestLength = 32
)

// Name is the fully qualified repository name: domain and path.
func (r imageRef) Name() string { return r.Domain + "/" + r.Path }

// Pinned reports whether the reference names its content by digest; a tag
// beside the digest is then ignored by the runtime.
func (r imageRef) Pinned() bool { return r.Digest != "" }

// Floating reports whether the reference is one Kubernetes treats as
// moving: :latest or no tag, and no digest.
func (r imageRef) Floating() bool { return !r.Pinned() && (r.Tag == "" || r.Tag == "latest") }

// DefaultPullPolicy is the imagePullPolicy the API server sets when the
// container leaves it empty: Always for :latest or a reference with neither
// tag nor digest, IfNotPresent otherwise. A digest next to :latest does not
// change that.
func (r imageRef) DefaultPullPolicy() string {
	if r.Tag == "latest" || (r.Tag == "" && r.Digest == "") {
		return "Always"
	}
	return "IfNotPresent"
}

// parseImage parses an image reference:
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [ domain "/" ] path-component [ "/" path-component ]*
//	domain    := host [ ":" port ]
//
// The first component is a domain when it contains "." or ":", is
// "localhost", or has an upper-case letter; otherwise the image is on
// Docker Hub, and a one-component name there is under library/.
func parseImage(s string) (imageRef, error) {
	var r imageRef
	if s == "" {
		return r, errors.New("empty image reference")
	}
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, r.Digest = name[:i], name[i+1:]
		if err := validDigest(r.Digest); err != nil {
			return imageRef{}, err
		}
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, r.Tag = name[:i], name[i+1:]
		if !validTag(r.Tag) {
			return imageRef{}, fmt.Errorf("invalid tag %q", r.Tag)
		}
	}
	if name == "" {
		return imageRef{}, errors.New("no repository name")
	}
	if len(name) > maxNameLength {
		return imageRef{}, fmt.Errorf("repository name longer than %d characters", maxNameLength)
	}
	r.Domain, r.Path = dockerHub, name
	if first, rest, ok := strings.Cut(name, "/"); ok && isDomain(first) {
		if err := validDomain(first); err != nil {
			return imageRef{}, err
		}
		r.Domain, r.Path = canonicalDomain(first), rest
	}
	if err := validPath(r.Path); err != nil {
		return imageRef{}, err
	}
	if r.Domain == dockerHub && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	return r, nil
}

func isDomain(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost" || strings.ToLower(s) != s
}

// canonicalDomain names Docker Hub docker.io when it is written under its
// legacy name, and leaves every other host as written, as the runtime
// does. Hosts compare case-insensitively (registryAllowed folds them), but
// folding here would turn a one-label host such as "Builder" into a Docker
// Hub path.
func canonicalDomain(d string) string {
	if d == "index.docker.io" {
		return dockerHub
	}
	return d
}

// validDomain checks host[:port], where host is a DNS name, an IPv4
// address, or an IPv6 address in brackets.
func validDomain(d string) error {
	if !validDomainSyntax(d) {
		return fmt.Errorf("invalid registry %q", d)
	}
	return nil
}

// validDomainSyntax is validDomain's test, without building an error for
// the domains that pass: every container's image is parsed by several
// checks.
func validDomainSyntax(d string) bool {
	host, port, hasPort := d, "", false
	if strings.HasPrefix(d, "[") {
		end := strings.IndexByte(d, ']')
		if end < 0 {
			return false
		}
		if a, err := netip.ParseAddr(d[1:end]); err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
		host = ""
		if rest := d[end+1:]; rest != "" {
			if rest[0] != ':' {
				return false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		if i := strings.IndexByte(d, ':'); i >= 0 {
			host, port, hasPort = d[:i], d[i+1:], true
		}
		if !validHost(host) {
			return false
		}
	}
	if hasPort && port == "" {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validHost checks dot-separated labels of letters, digits and inner
// hyphens.
func validHost(h string) bool {
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !isAlnum(c) && !(c >= 'A' && c <= 'Z') && c != '-' {
				return false
			}
		}
	}
	return true
}

// validPath checks path components: lower-case letters and digits, joined
// within a component by ".", "_", "__" or runs of "-".
func validPath(p string) error {
	for comp := range strings.SplitSeq(p, "/") {
		if !validComponent(comp) {
			return fmt.Errorf("invalid repository path %q", p)
		}
	}
	return nil
}

func validComponent(c string) bool {
	if c == "" || !isAlnum(rune(c[0])) || !isAlnum(rune(c[len(c)-1])) {
		return false
	}
	for i := 0; i < len(c); {
		if isAlnum(rune(c[i])) {
			i++
			continue
		}
		// A separator: ".", "_", "__", or one or more "-".
		j := i
		switch c[i] {
		case '.':
			j++
		case '_':
			j++
			if j < len(c) && c[j] == '_' {
				j++
			}
		case '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		if j >= len(c) || !isAlnum(rune(c[j])) {
			return false
		}
		i = j
	}
	return true
}

func isAlnum(c rune) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isWord(c rune) bool { return isAlnum(c) || c >= 'A' && c <= 'Z' || c == '_' }

// validTag checks [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > maxTagLength || !isWord(rune(t[0])) {
		return false
	}
	for _, c := range t[1:] {
		if !isWord(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// validDigest checks algorithm ":" hex, where the algorithm is letters and
// digits joined by "+", ".", "_" or "-", and the hex part has at least 32
// digits; sha256 and sha512 must have their exact lengths in lower case, as
// the OCI image specification requires.
func validDigest(d string) error {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || !validAlgorithm(alg) {
		return fmt.Errorf("invalid digest %q", d)
	}
	want := 0
	switch alg {
	case "sha256":
		want = 64
	case "sha512":
		want = 128
	}
	if len(hex) < minDigestLength || want > 0 && len(hex) != want {
		return fmt.Errorf("invalid digest %q: wrong length", d)
	}
	for _, c := range hex {
		lower := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		if !lower && (want > 0 || !(c >= 'A' && c <= 'F')) {
			return fmt.Errorf("invalid digest %q: not hexadecimal", d)
		}
	}
	return nil
}

// validAlgorithm checks components of [A-Za-z][A-Za-z0-9]* joined by one
// of "+", ".", "_" or "-".
func validAlgorithm(alg string) bool {
	start := 0
	for i := 0; i <= len(alg); i++ {
		if i < len(alg) && !strings.ContainsRune("+._-", rune(alg[i])) {
			continue
		}
		comp := alg[start:i]
		if comp == "" || !(comp[0] >= 'a' && comp[0] <= 'z' || comp[0] >= 'A' && comp[0] <= 'Z') {
			return false
		}
		for _, c := range comp {
			if !isWord(c) || c == '_' {
				return false
			}
		}
		start = i + 1
	}
	return true
}
