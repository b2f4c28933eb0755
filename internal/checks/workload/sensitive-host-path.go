package workload

import (
	"path"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// sensitiveHostPath is a place on a node that a pod must not reach.
type sensitiveHostPath struct {
	path string
	// subtree says that everything below path is sensitive too; otherwise
	// only path itself is (/etc is, /etc/ssl/certs is not).
	subtree bool
	what    string
	// writable says the path is sensitive only when a container may
	// write to it (a read-only /var/log is a log collector's).
	writable bool
}

// sensitiveHostPaths are written with /run for /var/run, which is a
// symbolic link to it on every current distribution. A host path that
// contains one of these (/var, /run) exposes it as well.
var sensitiveHostPaths = []sensitiveHostPath{
	{"/", false, "the node's whole filesystem", false},
	{"/run/docker.sock", false, "the Docker socket, which controls every container on the node", false},
	{"/run/cri-dockerd.sock", false, "the cri-dockerd socket, which controls every container on the node", false},
	{"/run/containerd", true, "containerd's socket and state, which control every container on the node", false},
	{"/run/k3s/containerd", true, "k3s's containerd socket, which controls every container on the node", false},
	{"/run/crio", true, "the CRI-O socket, which controls every container on the node", false},
	{"/run/podman", true, "the Podman socket, which controls every container on the node", false},
	{"/etc", false, "the node's configuration: users, passwords, cron jobs, services", false},
	{"/etc/kubernetes", true, "the node's Kubernetes configuration, certificates and kubeconfigs", false},
	{"/root", true, "the node's root home directory, with its SSH keys and kubeconfigs", false},
	{"/proc", true, "the host's processes, including PID 1's view of the host filesystem", false},
	{"/sys", false, "the host's kernel and device interfaces", false},
	{"/dev", false, "the host's devices, including its disks", false},
	{"/boot", true, "the node's kernel and boot loader", false},
	{"/var/lib/kubelet", true, "the kubelet's credentials and every pod's volumes, Secrets included", false},
	{"/var/lib/etcd", true, "etcd's data, which holds every Secret of the cluster", false},
	{"/var/lib/docker", true, "Docker's storage, the filesystems of every container", false},
	{"/var/lib/containerd", true, "containerd's storage, the filesystems of every container", false},
	{"/var/lib/containers", true, "CRI-O's and Podman's storage, the filesystems of every container", false},
	{"/opt/cni", true, "the CNI plugins, programs the kubelet runs as root on the node", false},
	{"/etc/cni", true, "the CNI configuration, which names the programs the kubelet runs as root", false},
	{"/usr", true, "the node's programs, which the node runs as root", true},
	{"/bin", true, "the node's programs, which the node runs as root", true},
	{"/sbin", true, "the node's programs, which the node runs as root", true},
	{"/lib", true, "the node's libraries, which every program of the node loads", true},
	// The log-mount escape: a writable /var/log lets a pod plant a
	// symbolic link that the kubelet, serving logs as root, follows to any
	// file of the node.
	{"/var/log", true, "the node's logs: writable, a symbolic link planted in it makes the kubelet serve any file of the node (the log-mount escape)", true},
}

// SensitiveHostPath reports hostPath volumes that reach the container
// runtime, the kubelet, the node's credentials or its system directories:
// a pod with such a mount can usually take over the node. Paths compare
// after path.Clean (so /etc/ and /var/lib/../etc are /etc) and with
// /var/run read as /run. Options.TrustedHostPaths lists prefixes the
// check accepts, for agents that need them (a log collector reading
// /var/lib/docker/containers). The volume is judged, not its mounts: the
// pod is granted the whole path whatever subPath its containers use today,
// and a read-only mount does not lower the finding, since a socket mounted
// read-only still takes connections and reading the kubelet's or the
// node's credentials is enough.
var SensitiveHostPath = check.Check{
	ID:       "sensitive-host-path",
	Title:    "Sensitive host path mounted",
	Severity: finding.Critical,
	Category: "Host access",
	Rationale: "The Pod Security Standards forbid hostPath volumes at the baseline level, and the Kubernetes volumes documentation warns that " +
		"host access can hand a pod the kubelet's credentials or the container runtime's socket, a way out of the container and into " +
		"the rest of the cluster. These paths are the ones that give a pod the node, so the check reports them above the baseline finding.",
	Remediation: "Remove the hostPath volume. If an agent truly needs the path, mount only the subdirectory it needs, read-only,\n" +
		"run it in a namespace of its own, and list the path in .kubeguard.yaml:\n" +
		"  parameters:\n    trustedHostPaths: [/var/lib/docker/containers]",
	DocURL: "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
	Kinds:  []string{check.PodTemplates},
	Run: func(p *check.Pass) {
		t := p.Template
		for i, v := range t.Spec.Volumes {
			if v.HostPath == nil || v.HostPath.Path == "" {
				continue
			}
			hp := hostPathKey(v.HostPath.Path)
			if trustedHostPath(hp, p.Context.Options.TrustedHostPaths) {
				continue
			}
			s, contains, ok := sensitive(hp)
			if !ok || s.writable && !contains && !mountedWritable(t, v.Name) {
				continue
			}
			what := s.what
			if contains {
				what = "it contains " + s.path + ": " + s.what
			}
			if clean := path.Clean("/" + v.HostPath.Path); clean != strings.TrimSuffix(v.HostPath.Path, "/") && clean != "/" {
				what = "that is " + clean + "; " + what
			}
			containers := mountedBy(t, v.Name)
			p.Report(check.Diagnostic{
				Path:       t.SpecPath().Key("volumes").Index(i).Keys("hostPath", "path"),
				Containers: containers,
				Reason:     "hostPath volume mounts " + v.HostPath.Path,
				Detail:     "volume " + quote(v.Name) + " mounts host path " + v.HostPath.Path + " (" + what + ")" + mountedIn(containers),
			})
		}
	},
}

// hostPathKey cleans a host path and reads /var/run as /run. A relative
// path is taken from the root, as the kubelet's working directory is.
func hostPathKey(p string) string {
	p = path.Clean("/" + p)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		p = "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}

// under reports whether p is dir or lies below it.
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

func trustedHostPath(p string, trusted []string) bool {
	for _, t := range trusted {
		if strings.TrimSpace(t) != "" && under(p, hostPathKey(strings.TrimSpace(t))) {
			return true
		}
	}
	return false
}

// sensitive finds the entry p reaches: one it is, one it lies under, or,
// failing those, one it contains (contains is then true).
func sensitive(p string) (s sensitiveHostPath, contains, ok bool) {
	for _, e := range sensitiveHostPaths {
		if p == e.path || e.subtree && under(p, e.path) {
			return e, false, true
		}
	}
	for _, e := range sensitiveHostPaths {
		if under(e.path, p) {
			return e, true, true
		}
	}
	return sensitiveHostPath{}, false, false
}

// mountedWritable reports whether a container mounts the volume without
// readOnly.
func mountedWritable(t *object.PodTemplate, volume string) bool {
	for _, c := range t.Containers() {
		for _, m := range c.VolumeMounts {
			if m.Name == volume && !m.ReadOnly {
				return true
			}
		}
	}
	return false
}

// mountedBy names the containers, of every kind, that mount a volume.
func mountedBy(t *object.PodTemplate, volume string) []string {
	var names []string
	for _, c := range t.Containers() {
		for _, m := range c.VolumeMounts {
			if m.Name == volume {
				names = append(names, c.Name)
				break
			}
		}
	}
	return names
}

func mountedIn(containers []string) string {
	if len(containers) == 0 {
		return "; no container mounts it yet"
	}
	quoted := make([]string, len(containers))
	for i, n := range containers {
		quoted[i] = quote(n)
	}
	return " into container " + strings.Join(quoted, ", ")
}
