package pss

import (
	"testing"

	"k8s.io/pod-security-admission/policy"
)

// TestNewestVersion holds NewestVersion to its definition: no
// check of the library is revised after it, and some check is revised at it.
func TestNewestVersion(t *testing.T) {
	newest := NewestVersion()
	if newest.Latest() || newest.Minor() == 0 {
		t.Fatalf("NewestVersion() = %v, want a concrete v1.N", newest)
	}
	revisedAt := false
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			if newest.Older(v.MinimumVersion) {
				t.Errorf("check %s is revised at %v, after NewestVersion %v", c.ID, v.MinimumVersion, newest)
			}
			revisedAt = revisedAt || v.MinimumVersion == newest
		}
	}
	if !revisedAt {
		t.Errorf("no check is revised at NewestVersion %v", newest)
	}
}
