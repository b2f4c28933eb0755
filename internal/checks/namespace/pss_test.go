package namespace

import (
	"testing"

	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// TestNewestPolicyVersion holds newestPolicyVersion to its definition: no
// check of the library is revised after it, and some check is revised at it.
func TestNewestPolicyVersion(t *testing.T) {
	if newestPolicyVersion.Latest() || newestPolicyVersion.Minor() == 0 {
		t.Fatalf("newestPolicyVersion = %v, want a concrete v1.N", newestPolicyVersion)
	}
	revisedAt := false
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			if newestPolicyVersion.Older(v.MinimumVersion) {
				t.Errorf("check %s is revised at %v, after newestPolicyVersion %v", c.ID, v.MinimumVersion, newestPolicyVersion)
			}
			revisedAt = revisedAt || v.MinimumVersion == newestPolicyVersion
		}
	}
	if !revisedAt {
		t.Errorf("no check is revised at newestPolicyVersion %v", newestPolicyVersion)
	}
}

func TestPinnedTooOld(t *testing.T) {
	newest := newestPolicyVersion.Minor()
	tests := []struct {
		name    string
		version api.Version
		want    bool
	}{
		{name: "newest", version: api.MajorMinorVersion(1, newest), want: false},
		{name: "one behind", version: api.MajorMinorVersion(1, newest-1), want: false},
		{name: "two behind", version: api.MajorMinorVersion(1, newest-2), want: false},
		{name: "three behind", version: api.MajorMinorVersion(1, newest-3), want: true},
		{name: "v1.0", version: api.MajorMinorVersion(1, 0), want: true},
		{name: "newer than known", version: api.MajorMinorVersion(1, newest+1), want: false},
		{name: "latest", version: api.LatestVersion(), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pinnedTooOld(tt.version); got != tt.want {
				t.Errorf("pinnedTooOld(%v) = %v, want %v (newest %v)", tt.version, got, tt.want, newestPolicyVersion)
			}
		})
	}
}
