package config

import (
	"maps"
	"slices"
)

// MatchesSubject is Matches for a front that knows who runs the pod, the
// admission webhook: serviceAccount is the pod's ServiceAccount ("default"
// when the spec names none) and images maps container names to images.
// An Image glob covers a finding only when every container the finding
// names, or every container of the pod for a pod-level finding, runs a
// matching image; path.Match rules apply, so "*" stops at "/"
// ("registry.example.com/team/*" covers "registry.example.com/team/app:1").
func (e *Exemption) MatchesSubject(id, kind, namespace, name string, containers []string, serviceAccount string, images map[string]string) bool {
	if !e.matches(id, kind, namespace, name, containers) || !glob(e.ServiceAccount, serviceAccount) {
		return false
	}
	if e.Image == "" || e.Image == "*" {
		return true
	}
	names := containers
	if len(names) == 0 {
		names = slices.Sorted(maps.Keys(images))
	}
	if len(names) == 0 {
		return false
	}
	for _, n := range names {
		img, ok := images[n]
		if !ok || !glob(e.Image, img) {
			return false
		}
	}
	return true
}
