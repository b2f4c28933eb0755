package pss

import (
	"slices"

	"github.com/kubeguard/kubeguard/internal/object"
	"gopkg.in/yaml.v3"
	"k8s.io/pod-security-admission/policy"
)

// op is one change of a fix.
type op = object.Change

// nonRootUID is the user a fix runs containers as when they name none: an
// image that runs as root by default does not start with runAsNonRoot
// alone.
const nonRootUID = 10001

// baselineCapabilities are the capabilities baseline lets a container add:
// the container runtime's default set.
var baselineCapabilities = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

// fixOps are the changes that clear a failed check at its spots, written
// where the violation is: a container's own field for a container's
// setting (a pod-level seccomp profile does not override a container's
// Unconfined), the pod's for the pod's. nil when no change is known.
func fixOps(o *object.Object, id policy.CheckID, t *object.PodTemplate, spots []spot) []op {
	var ops []op
	set := func(p object.Path, v any) { ops = append(ops, op{Path: p, Value: v}) }
	remove := func(p object.Path) { ops = append(ops, op{Path: p, Remove: true}) }
	annotation := func(s spot) bool {
		return len(s.path) > 0 && len(s.path) >= 2 && s.path[len(s.path)-2].Key == "annotations"
	}
	for _, s := range spots {
		p := s.path
		if slices.Equal(p, t.SpecPath()) {
			continue // nothing precise known
		}
		switch id {
		case "allowPrivilegeEscalation":
			set(p, false)
		case "privileged", "windowsHostProcess":
			set(p, false)
		case "hostNamespaces":
			set(p, false)
		case "procMount", "procMount_restricted":
			set(p, "Default")
		case "runAsUser":
			set(p, nonRootUID)
		case "seLinuxOptions":
			remove(p)
		case "hostPorts", "hostProbesAndHostLifecycle":
			remove(p)
		case "appArmorProfile", "seccompProfile_baseline", "seccompProfile_restricted":
			if annotation(s) {
				remove(p)
				break
			}
			set(p, "RuntimeDefault")
			// Upstream reports the containers that set Unconfined before
			// those that set nothing: the fix of the first must cover the
			// second, or the pod fails again on them. The pod's own
			// profile covers every container that sets none.
			if pod := t.SpecPath().Keys("securityContext", "seccompProfile", "type"); id == "seccompProfile_restricted" && o.Field(pod) == nil {
				set(pod, "RuntimeDefault")
			}
		case "runAsNonRoot":
			set(p, true)
			// runAsNonRoot alone stops an image that runs as root from
			// starting: name a user where none is.
			sc := p[:len(p)-1]
			if !hasNonZero(o, sc.Key("runAsUser")) && !hasNonZero(o, t.SpecPath().Keys("securityContext", "runAsUser")) {
				set(sc.Key("runAsUser"), nonRootUID)
			}
		case "capabilities_baseline":
			set(p, keep(o, p, baselineCapabilities))
		case "capabilities_restricted":
			caps := p[:len(p)-1]
			set(caps.Key("drop"), []string{"ALL"})
			if o.Field(caps.Key("add")) != nil {
				set(caps.Key("add"), keep(o, caps.Key("add"), []string{"NET_BIND_SERVICE"}))
			}
		case "hostPathVolumes", "restrictedVolumes":
			if len(p) > 0 && p[len(p)-1].Key != "" {
				remove(p)
				set(p[:len(p)-1].Key("emptyDir"), map[string]any{})
			}
		case "sysctls":
			// sysctls is replaced whole by a patch: write the list
			// without the unsafe ones.
			list := p[:len(p)-2]
			if !slices.ContainsFunc(ops, func(x op) bool { return slices.Equal(x.Path, list) }) {
				set(list, safeSysctls(o, list, spots))
			}
		}
	}
	// One change per field, the first: spots may repeat a field.
	var out []op
	for _, x := range ops {
		if !slices.ContainsFunc(out, func(y op) bool { return slices.Equal(x.Path, y.Path) }) {
			out = append(out, x)
		}
	}
	return out
}

// hasNonZero reports whether the field at p is set to something other
// than 0.
func hasNonZero(o *object.Object, p object.Path) bool {
	n := o.Field(p)
	return n != nil && n.Kind == yaml.ScalarNode && n.Value != "0" && n.Value != "" && n.Tag != "!!null"
}

// keep is the string list at p without the items not in allowed.
func keep(o *object.Object, p object.Path, allowed []string) []string {
	out := []string{}
	if n := o.Field(p); n != nil && n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			if slices.Contains(allowed, c.Value) && !slices.Contains(out, c.Value) {
				out = append(out, c.Value)
			}
		}
	}
	return out
}

// safeSysctls is the pod's sysctls list without those at the spots.
func safeSysctls(o *object.Object, list object.Path, spots []spot) []any {
	out := []any{}
	n := o.Field(list)
	if n == nil || n.Kind != yaml.SequenceNode {
		return out
	}
	for i := range n.Content {
		bad := slices.ContainsFunc(spots, func(s spot) bool {
			return slices.Equal(s.path, list.Index(i).Key("name"))
		})
		if bad {
			continue
		}
		var v map[string]any
		if o.Decode(list.Index(i), &v) == nil {
			out = append(out, v)
		}
	}
	return out
}
