package workload

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
)

func TestSensitiveHostPaths(t *testing.T) {
	tests := []struct {
		path     string
		trusted  []string
		want     string // the entry reported, "" for none
		contains bool
	}{
		{path: "/var/run/docker.sock", want: "/run/docker.sock"},
		{path: "/run/docker.sock", want: "/run/docker.sock"},
		{path: "/var/run/docker.sock/", want: "/run/docker.sock"},
		{path: "//var//run/./docker.sock", want: "/run/docker.sock"},
		{path: "/run/containerd/containerd.sock", want: "/run/containerd"},
		{path: "/var/run/containerd", want: "/run/containerd"},
		{path: "/var/run/crio/crio.sock", want: "/run/crio"},
		{path: "/", want: "/"},
		{path: "/etc", want: "/etc"},
		{path: "/etc/", want: "/etc"},
		{path: "/etc/kubernetes/admin.conf", want: "/etc/kubernetes"},
		{path: "/etc/ssl/certs"},
		{path: "/etc/machine-id"},
		{path: "/proc/1/root", want: "/proc"},
		{path: "/var/lib/kubelet", want: "/var/lib/kubelet"},
		{path: "/var/lib/kubelet/pods/", want: "/var/lib/kubelet"},
		{path: "/var/lib/kubeletx"},
		{path: "/var/lib/docker/containers", want: "/var/lib/docker"},
		{path: "/var/lib/docker/containers", trusted: []string{"/var/lib/docker/containers/"}},
		{path: "/var/lib/docker/containers/abc", trusted: []string{"/var/lib/docker/containers"}},
		{path: "/var/lib/docker", trusted: []string{"/var/lib/docker/containers"}, want: "/var/lib/docker"},
		{path: "/var/run/docker.sock", trusted: []string{"/run/docker.sock"}},
		{path: "/run/docker.sock", trusted: []string{"/var/run"}},
		{path: "/var/lib/kubelet", trusted: []string{"/var/lib/kube"}, want: "/var/lib/kubelet"},
		{path: "/var/lib/../../etc//kubernetes", want: "/etc/kubernetes"},
		{path: "etc/kubernetes", want: "/etc/kubernetes"},
		{path: "/var", want: "/var/lib/kubelet", contains: true},
		{path: "/var/lib", want: "/var/lib/kubelet", contains: true},
		{path: "/run", want: "/run/docker.sock", contains: true},
		{path: "/var/run", want: "/run/docker.sock", contains: true},
		{path: "/run/k3s", want: "/run/k3s/containerd", contains: true},
		{path: "/var/log", want: "/var/log"}, // when mounted writable (the log-mount escape)
		{path: "/opt/cni/bin", want: "/opt/cni"},
		{path: "/run/xtables.lock"},
		{path: "/sys/fs/cgroup"},
		{path: "/sys", want: "/sys"},
		{path: "/dev", want: "/dev"},
		{path: "/root/.ssh", want: "/root"},
		{path: "/rootfs"},
		{path: "/home/user"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := hostPathKey(tt.path)
			if trustedHostPath(p, tt.trusted) {
				if tt.want != "" {
					t.Errorf("%s is trusted by %q, want %s reported", tt.path, tt.trusted, tt.want)
				}
				return
			}
			s, contains, ok := sensitive(p)
			if !ok {
				s.path = ""
			}
			if s.path != tt.want || contains != tt.contains {
				t.Errorf("sensitive(%q) = %q (contains %v), want %q (contains %v)", p, s.path, contains, tt.want, tt.contains)
			}
		})
	}
}

func TestRegistryAllowed(t *testing.T) {
	allowed := []string{"registry.example.com", "Registry.Internal:5000/", "ghcr.io/example-org", "index.docker.io/library", " "}
	tests := []struct {
		image string
		want  bool
	}{
		{image: "registry.example.com/app:1", want: true},
		{image: "REGISTRY.example.com/team/app", want: true},
		{image: "registry.example.com.evil.io/app"},
		{image: "registry.example.com:443/app"},
		{image: "registry.internal:5000/app", want: true},
		{image: "registry.internal/app"},
		{image: "ghcr.io/example-org/app", want: true},
		{image: "ghcr.io/example-org/team/app", want: true},
		{image: "ghcr.io/example-org-evil/app"},
		{image: "ghcr.io/app"},
		{image: "nginx", want: true},
		{image: "docker.io/library/nginx:1.27", want: true},
		{image: "bitnami/redis"},
		{image: "localhost:5000/app"},
		{image: "Docker.IO/nginx"},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			r, err := parseImage(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			if got := registryAllowed(r, allowed); got != tt.want {
				t.Errorf("registryAllowed(%s) = %v, want %v", r.Name(), got, tt.want)
			}
		})
	}
}

// TestWithoutParameters runs the fixtures of the checks with parameters
// without them: image-registry says nothing, and sensitive-host-path
// reports the path the fixtures trust.
func TestWithoutParameters(t *testing.T) {
	tests := []struct {
		fixture string
		check   string
		want    []string // finding paths
	}{
		{fixture: "image-registry.yaml", check: ImageRegistry.ID},
		{fixture: "sensitive-host-path_ok.yaml", check: SensitiveHostPath.ID, want: []string{"spec.template.spec.volumes[1].hostPath.path"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			fs, err := checktest.Scan(filepath.Join("testdata", tt.fixture), Checks, checktest.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				if f.CheckID == tt.check {
					got = append(got, f.Path)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s findings (-want +got):\n%s", tt.check, diff)
			}
		})
	}
}
