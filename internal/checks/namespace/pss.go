package namespace

import (
	"fmt"
	"strings"

	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// builtinDefault is the policy the API server applies to a namespace that
// sets no labels when its PodSecurity admission configuration keeps the
// built-in defaults: privileged, latest, in every mode. kubeguard sees
// manifests, not the cluster's admission configuration, so it assumes
// these.
var builtinDefault = func() api.Policy {
	lv := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	return api.Policy{Enforce: lv, Audit: lv, Warn: lv}
}()

// supportedMinors is how many minor releases the Kubernetes project
// maintains at a time (https://kubernetes.io/releases/version-skew-policy/).
// A namespace may pin any of the policy versions of those releases, the
// usual way to upgrade the control plane before the policy; a pin to an
// older one holds the namespace to the policy of a release that is out of
// support.
const supportedMinors = 3

// oldestCurrentVersion is the oldest policy version that is not old: the
// newest policy version and the supportedMinors-1 before it.
func oldestCurrentVersion() api.Version {
	newest := pss.NewestVersion()
	minor := newest.Minor() - (supportedMinors - 1)
	if minor < 0 {
		minor = 0
	}
	return api.MajorMinorVersion(newest.Major(), minor)
}

// pinnedTooOld reports whether a concrete policy version is older than
// every version of the supported window.
func pinnedTooOld(v api.Version) bool {
	oldest := oldestCurrentVersion()
	return v.Older(oldest)
}

// revisionsSince lists the Pod Security checks at level that were revised
// after version v, each with the versions of its revisions, in the order
// the library lists its checks: what a namespace pinned to v does not get.
func revisionsSince(v api.Version, level api.Level) []string {
	var out []string
	for _, c := range policy.DefaultChecks() {
		if c.Level == api.LevelRestricted && level != api.LevelRestricted {
			continue // restricted checks do not run at baseline
		}
		var versions []string
		for _, r := range c.Versions {
			if v.Older(r.MinimumVersion) {
				versions = append(versions, r.MinimumVersion.String())
			}
		}
		if len(versions) > 0 {
			out = append(out, fmt.Sprintf("%s (%s)", c.ID, strings.Join(versions, ", ")))
		}
	}
	return out
}
