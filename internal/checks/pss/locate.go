package pss

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kubeguard/kubeguard/internal/object"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/policy"
)

// spot is one place a violation is: a field path and the container whose
// field it is (empty for pod-level fields).
type spot struct {
	path      object.Path
	container string
}

// A locator finds where in a pod template a failed check's violation is.
// Which containers, volumes, sysctls or annotations are at fault comes from
// the upstream verdict's detail, which names them; the locator only knows
// which field of each the check is about. So the verdict stays upstream's,
// and this code decides nothing but positions.
type locator func(t *object.PodTemplate, detail string) []spot

// containerField locates checks of one container field, with the same
// field at pod level when the detail blames the pod.
func containerField(field ...string) locator {
	keys := append([]string{"securityContext"}, field...) // one allocation per path
	return func(t *object.PodTemplate, detail string) []spot {
		var spots []spot
		if podBlamed(detail) {
			spots = append(spots, spot{path: t.SpecPath().Keys(keys...)})
		}
		containersNamed(t, detail, func(c *object.Container) {
			spots = append(spots, spot{path: c.Path.Keys(keys...), container: c.Name})
		})
		return spots
	}
}

var locators = map[policy.CheckID]locator{
	"allowPrivilegeEscalation":   containerField("allowPrivilegeEscalation"),
	"appArmorProfile":            withAnnotations(containerField("appArmorProfile", "type")),
	"capabilities_baseline":      containerField("capabilities", "add"),
	"capabilities_restricted":    locateCapabilitiesRestricted,
	"hostNamespaces":             locateHostNamespaces,
	"hostPathVolumes":            locateVolumes,
	"hostPorts":                  locateHostPorts,
	"hostProbesAndHostLifecycle": locateProbeHosts,
	"privileged":                 containerField("privileged"),
	"procMount":                  containerField("procMount"),
	"procMount_restricted":       containerField("procMount"),
	"restrictedVolumes":          locateVolumes,
	"runAsNonRoot":               containerField("runAsNonRoot"),
	"runAsUser":                  containerField("runAsUser"),
	"seLinuxOptions":             containerField("seLinuxOptions"),
	"seccompProfile_baseline":    withAnnotations(containerField("seccompProfile", "type")),
	"seccompProfile_restricted":  withAnnotations(containerField("seccompProfile", "type")),
	"sysctls":                    locateSysctls,
	"windowsHostProcess":         containerField("windowsOptions", "hostProcess"),
}

// locate returns the spots of a failed check; when nothing more precise is
// known, the pod spec itself.
func locate(id policy.CheckID, t *object.PodTemplate, detail string) []spot {
	var spots []spot
	if l := locators[id]; l != nil {
		spots = l(t, detail)
	}
	if len(spots) == 0 {
		spots = []spot{{path: t.SpecPath()}}
	}
	return spots
}

// podBlamed reports whether the detail names the pod itself ("pod must not
// set ...", "pod and containers ..."), rather than only offering the pod as
// an alternative place to fix containers ("pod or containers ... must set").
func podBlamed(detail string) bool {
	return strings.HasPrefix(detail, "pod ") && !strings.HasPrefix(detail, "pod or ")
}

// names appends to out the quoted names that follow `noun` or `nouns` in detail,
// as upstream writes them: container "a", containers "a", "b". It reads
// the list by hand rather than with a regular expression: it runs for
// nearly every Pod Security finding, and the expressions were most of the
// cost of locating one. quotedNames says what the list may look like.
func names(out []string, detail, noun string) []string {
	for i := 0; i < len(detail); {
		j := strings.Index(detail[i:], noun)
		if j < 0 {
			break
		}
		i += j + len(noun)
		if j := i - len(noun) - 1; j >= 0 && detail[j] != ' ' && detail[j] != ';' {
			continue // part of a longer word
		}
		out = quotedNames(out, strings.TrimPrefix(detail[i:], "s"))
	}
	return out
}

// quotedNames appends the names of the list that starts s: a space, then
// one or more double-quoted Go strings separated by ", ". A list item ends
// at its first unescaped quote; a backslash escapes any character but a
// newline. The list is as long as its items are whole, and items that do
// not unquote are skipped.
func quotedNames(out []string, s string) []string {
	if len(s) < 2 || s[0] != ' ' {
		return out
	}
	for at := 1; ; {
		end := quotedEnd(s, at)
		if end < 0 {
			return out
		}
		if q := s[at:end]; !strings.ContainsAny(q, "\\\n") && utf8.ValidString(q) {
			out = append(out, q[1:len(q)-1]) // what strconv.Unquote answers, without its work
		} else if u, err := strconv.Unquote(q); err == nil {
			out = append(out, u)
		}
		if !strings.HasPrefix(s[end:], ", \"") || quotedEnd(s, end+2) < 0 {
			return out
		}
		at = end + 2
	}
}

// quotedEnd returns the end of the double-quoted item starting at s[at],
// after its closing quote, or -1 when there is no whole item there.
func quotedEnd(s string, at int) int {
	if at >= len(s) || s[at] != '"' {
		return -1
	}
	for i := at + 1; i < len(s); i++ {
		switch s[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(s) || s[i+1] == '\n' {
				return -1
			}
			i++
		}
	}
	return -1
}

// containersNamed calls f with each container of t that the detail names
// ("container" or "containers" and a quoted list), in the template's
// order, without building a list of either.
func containersNamed(t *object.PodTemplate, detail string, f func(c *object.Container)) {
	var buf [8]string
	want := names(buf[:0], detail, "container")
	if len(want) == 0 {
		return
	}
	cs := t.Containers()
	for i := range cs {
		if slices.Contains(want, cs[i].Name) {
			f(&cs[i])
		}
	}
}

// withAnnotations adds the pod annotations the detail quotes
// (key="value") to what l finds.
func withAnnotations(l locator) locator {
	return func(t *object.PodTemplate, detail string) []spot {
		spots := l(t, detail)
		keys := make([]string, 0, len(t.Metadata.Annotations))
		for k := range t.Metadata.Annotations {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if strings.Contains(detail, k+"=") {
				spots = append(spots, spot{path: t.MetadataPath().Keys("annotations", k)})
			}
		}
		return spots
	}
}

func locateCapabilitiesRestricted(t *object.PodTemplate, detail string) []spot {
	var spots []spot
	for _, clause := range strings.Split(detail, "; ") {
		field := "add"
		if strings.Contains(clause, "capabilities.drop") {
			field = "drop"
		}
		containersNamed(t, clause, func(c *object.Container) {
			spots = append(spots, spot{path: c.Path.Keys("securityContext", "capabilities", field), container: c.Name})
		})
	}
	return spots
}

func locateHostNamespaces(t *object.PodTemplate, detail string) []spot {
	var spots []spot
	for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if strings.Contains(detail, f+"=true") {
			spots = append(spots, spot{path: t.SpecPath().Key(f)})
		}
	}
	return spots
}

// locateVolumes points at the volume source of each named volume: the key
// (hostPath, nfs...) that makes it the forbidden type.
func locateVolumes(t *object.PodTemplate, detail string) []spot {
	want := names(nil, detail, "volume")
	var spots []spot
	for i, v := range t.Spec.Volumes {
		if !slices.Contains(want, v.Name) {
			continue
		}
		p := t.SpecPath().Key("volumes").Index(i)
		if src := object.VolumeSourceName(&v.VolumeSource); src != "" {
			p = p.Key(src)
		}
		spots = append(spots, spot{path: p})
	}
	return spots
}

func locateHostPorts(t *object.PodTemplate, detail string) []spot {
	var spots []spot
	containersNamed(t, detail, func(c *object.Container) {
		for j, p := range c.Ports {
			if p.HostPort != 0 {
				spots = append(spots, spot{path: c.Path.Key("ports").Index(j).Key("hostPort"), container: c.Name})
			}
		}
	})
	return spots
}

func locateProbeHosts(t *object.PodTemplate, detail string) []spot {
	var spots []spot
	containersNamed(t, detail, func(c *object.Container) {
		probes := []struct {
			field string
			p     *corev1.Probe
		}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
		for _, p := range probes {
			if p.p == nil {
				continue
			}
			if p.p.HTTPGet != nil && p.p.HTTPGet.Host != "" {
				spots = append(spots, spot{path: c.Path.Keys(p.field, "httpGet", "host"), container: c.Name})
			}
			if p.p.TCPSocket != nil && p.p.TCPSocket.Host != "" {
				spots = append(spots, spot{path: c.Path.Keys(p.field, "tcpSocket", "host"), container: c.Name})
			}
		}
		if l := c.Lifecycle; l != nil {
			for _, h := range []struct {
				field string
				h     *corev1.LifecycleHandler
			}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
				if h.h == nil {
					continue
				}
				if h.h.HTTPGet != nil && h.h.HTTPGet.Host != "" {
					spots = append(spots, spot{path: c.Path.Keys("lifecycle", h.field, "httpGet", "host"), container: c.Name})
				}
				if h.h.TCPSocket != nil && h.h.TCPSocket.Host != "" {
					spots = append(spots, spot{path: c.Path.Keys("lifecycle", h.field, "tcpSocket", "host"), container: c.Name})
				}
			}
		}
	})
	return spots
}

// locateSysctls points at each sysctl the detail lists ("a, b").
func locateSysctls(t *object.PodTemplate, detail string) []spot {
	if t.Spec.SecurityContext == nil {
		return nil
	}
	bad := strings.Split(detail, ", ")
	var spots []spot
	for i, s := range t.Spec.SecurityContext.Sysctls {
		if slices.Contains(bad, s.Name) {
			spots = append(spots, spot{path: t.SpecPath().Keys("securityContext", "sysctls").Index(i).Key("name")})
		}
	}
	return spots
}
