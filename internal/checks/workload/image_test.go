package workload

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	sha256Hex = strings.Repeat("0123456789abcdef", 4)
	sha512Hex = sha256Hex + sha256Hex
)

func TestParseImage(t *testing.T) {
	tests := []struct {
		name  string
		image string
		want  imageRef
	}{
		{name: "official image", image: "nginx", want: imageRef{Domain: "docker.io", Path: "library/nginx"}},
		{name: "official image with tag", image: "nginx:1.27", want: imageRef{Domain: "docker.io", Path: "library/nginx", Tag: "1.27"}},
		{name: "explicit library", image: "library/nginx:latest", want: imageRef{Domain: "docker.io", Path: "library/nginx", Tag: "latest"}},
		{name: "explicit docker.io", image: "docker.io/nginx", want: imageRef{Domain: "docker.io", Path: "library/nginx"}},
		{name: "legacy hub name", image: "index.docker.io/bitnami/redis:7", want: imageRef{Domain: "docker.io", Path: "bitnami/redis", Tag: "7"}},
		{name: "hub user image", image: "bitnami/redis", want: imageRef{Domain: "docker.io", Path: "bitnami/redis"}},
		{name: "registry with port, no tag", image: "registry:5000/app", want: imageRef{Domain: "registry:5000", Path: "app"}},
		{name: "registry with port and tag", image: "registry:5000/app:1.0", want: imageRef{Domain: "registry:5000", Path: "app", Tag: "1.0"}},
		{name: "localhost", image: "localhost/app", want: imageRef{Domain: "localhost", Path: "app"}},
		{name: "localhost with port", image: "localhost:5000/team/app:v1", want: imageRef{Domain: "localhost:5000", Path: "team/app", Tag: "v1"}},
		{name: "upper-case host", image: "Registry.Example.com/app", want: imageRef{Domain: "Registry.Example.com", Path: "app"}},
		{name: "upper-case first component is a host", image: "Builder/app", want: imageRef{Domain: "Builder", Path: "app"}},
		// Only the exact names docker.io and index.docker.io are Docker
		// Hub with its library/ prefix, as the runtime reads them.
		{name: "upper-case hub name", image: "Docker.IO/nginx", want: imageRef{Domain: "Docker.IO", Path: "nginx"}},
		{name: "IPv4 registry", image: "192.168.1.10:5000/app:2", want: imageRef{Domain: "192.168.1.10:5000", Path: "app", Tag: "2"}},
		{name: "IPv6 registry", image: "[::1]:5000/app:1", want: imageRef{Domain: "[::1]:5000", Path: "app", Tag: "1"}},
		{name: "IPv6 registry without port", image: "[fd00::1]/app", want: imageRef{Domain: "[fd00::1]", Path: "app"}},
		{name: "digest", image: "ghcr.io/org/app@sha256:" + sha256Hex, want: imageRef{Domain: "ghcr.io", Path: "org/app", Digest: "sha256:" + sha256Hex}},
		{name: "tag and digest", image: "ghcr.io/org/app:1.0@sha256:" + sha256Hex, want: imageRef{Domain: "ghcr.io", Path: "org/app", Tag: "1.0", Digest: "sha256:" + sha256Hex}},
		{name: "port, tag and digest", image: "registry:5000/app:latest@sha512:" + sha512Hex, want: imageRef{Domain: "registry:5000", Path: "app", Tag: "latest", Digest: "sha512:" + sha512Hex}},
		{name: "other digest algorithm", image: "app@multihash+base58:" + sha256Hex[:40], want: imageRef{Domain: "docker.io", Path: "library/app", Digest: "multihash+base58:" + sha256Hex[:40]}},
		{name: "separators", image: "my-org/my_app__x/a.b-c--d:v1.2.3-rc.1_B", want: imageRef{Domain: "docker.io", Path: "my-org/my_app__x/a.b-c--d", Tag: "v1.2.3-rc.1_B"}},
		{name: "tag of 128 characters", image: "app:" + strings.Repeat("t", 128), want: imageRef{Domain: "docker.io", Path: "library/app", Tag: strings.Repeat("t", 128)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseImage(tt.image)
			if err != nil {
				t.Fatalf("parseImage(%q): %v", tt.image, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseImage(%q) (-want +got):\n%s", tt.image, diff)
			}
		})
	}
}

func TestParseImageErrors(t *testing.T) {
	tests := []struct {
		name  string
		image string
	}{
		{name: "empty", image: ""},
		{name: "only a tag", image: ":1.0"},
		{name: "empty tag", image: "nginx:"},
		{name: "tag starts with a dot", image: "nginx:.1"},
		{name: "tag too long", image: "app:" + strings.Repeat("t", 129)},
		{name: "upper case in path", image: "org/App"},
		{name: "empty path component", image: "org//app"},
		{name: "trailing separator", image: "app_"},
		{name: "leading separator", image: "-app"},
		{name: "three underscores", image: "a___b"},
		{name: "two tags", image: "nginx:1.0:2"},
		{name: "port not a number", image: "registry:abc/app"},
		{name: "empty port", image: "registry:/app"},
		{name: "unclosed IPv6", image: "[::1/app"},
		{name: "IPv4 in brackets", image: "[10.0.0.1]/app"},
		{name: "host label with hyphen at end", image: "bad-.example.com/app"},
		{name: "short digest", image: "nginx@sha256:abc"},
		{name: "sha256 of wrong length", image: "nginx@sha256:" + sha256Hex + "00"},
		{name: "upper-case sha256", image: "nginx@sha256:" + strings.ToUpper(sha256Hex)},
		{name: "digest without algorithm", image: "nginx@" + sha256Hex},
		{name: "digest algorithm with double separator", image: "nginx@sha++256:" + sha256Hex},
		{name: "digest not hexadecimal", image: "nginx@sha256:" + strings.Repeat("z", 64)},
		{name: "name too long", image: "registry.example.com/" + strings.Repeat("a", 250)},
		// The distribution library reads this as a Docker Hub path whose
		// first component happens to contain dots; a first component with
		// a dot is a host here, and "_" is not allowed in a host.
		{name: "underscore in host", image: "sub_domain.example.com/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := parseImage(tt.image); err == nil {
				t.Errorf("parseImage(%q) = %+v, want an error", tt.image, got)
			}
		})
	}
}

func TestImageRefDefaults(t *testing.T) {
	tests := []struct {
		image      string
		floating   bool
		pinned     bool
		pullPolicy string
	}{
		{image: "nginx", floating: true, pullPolicy: "Always"},
		{image: "nginx:latest", floating: true, pullPolicy: "Always"},
		{image: "nginx:Latest", pullPolicy: "IfNotPresent"},
		{image: "nginx:1.27", pullPolicy: "IfNotPresent"},
		{image: "registry:5000/app", floating: true, pullPolicy: "Always"},
		{image: "nginx@sha256:" + sha256Hex, pinned: true, pullPolicy: "IfNotPresent"},
		{image: "nginx:1.27@sha256:" + sha256Hex, pinned: true, pullPolicy: "IfNotPresent"},
		// The API server looks at the tag alone: a digest does not
		// stop :latest from defaulting to Always.
		{image: "nginx:latest@sha256:" + sha256Hex, pinned: true, pullPolicy: "Always"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			r, err := parseImage(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Floating(); got != tt.floating {
				t.Errorf("Floating() = %v, want %v", got, tt.floating)
			}
			if got := r.Pinned(); got != tt.pinned {
				t.Errorf("Pinned() = %v, want %v", got, tt.pinned)
			}
			if got := r.DefaultPullPolicy(); got != tt.pullPolicy {
				t.Errorf("DefaultPullPolicy() = %q, want %q", got, tt.pullPolicy)
			}
		})
	}
}

// FuzzParseImage checks that parsing never panics and that a parsed
// reference, written back in its normalised form, parses to itself.
func FuzzParseImage(f *testing.F) {
	for _, s := range []string{"nginx", "registry:5000/app:1.0", "[::1]:5000/a/b:c", "ghcr.io/org/app:1.0@sha256:" + sha256Hex, "Registry.Example.com/x", "a__b.c--d/e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseImage(s)
		if err != nil {
			return
		}
		norm := r.Name()
		if len(norm) > maxNameLength {
			return // the length limit applies to the name as written
		}
		if r.Tag != "" {
			norm += ":" + r.Tag
		}
		if r.Digest != "" {
			norm += "@" + r.Digest
		}
		again, err := parseImage(norm)
		if err != nil {
			t.Fatalf("parseImage(%q) = %+v, but its normal form %q does not parse: %v", s, r, norm, err)
		}
		if again != r {
			t.Fatalf("parseImage(%q) = %+v, but its normal form %q parses to %+v", s, r, norm, again)
		}
	})
}
