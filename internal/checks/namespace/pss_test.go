package namespace

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"k8s.io/pod-security-admission/api"
)

func TestPinnedTooOld(t *testing.T) {
	newestVersion := pss.NewestVersion()
	newest := newestVersion.Minor()
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
				t.Errorf("pinnedTooOld(%v) = %v, want %v (newest %v)", tt.version, got, tt.want, newestVersion)
			}
		})
	}
}
