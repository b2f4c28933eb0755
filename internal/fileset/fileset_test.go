package fileset

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

func TestSets(t *testing.T) {
	var s Sets
	if !s.Empty() || s.Key("envs/prod/app.yaml") != "" || s.Separate("a/x.yaml", "b/x.yaml") {
		t.Fatal("the zero Sets parts files")
	}
	// ClusterRole app in prod, staging and prod again (another file), and
	// a ConfigMap twice in one file.
	s.AddCopies([]string{"envs/prod/rbac.yaml", "envs/staging/rbac.yaml", "envs/prod/more.yaml"})
	s.AddCopies([]string{"envs/common.yaml", "envs/common.yaml"})
	if s.Empty() {
		t.Fatal("copies in two directories part no file")
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"envs/prod/rbac.yaml", "envs/staging/rbac.yaml", true},
		{"envs/prod/a/b.yaml", "envs/staging/c.yaml", true},
		{"envs/prod/rbac.yaml", "envs/prod/more.yaml", true}, // parted at envs/prod/
		{"envs/prod/x/rbac.yaml", "envs/prod/x/other.yaml", false},
		{"envs/prod/rbac.yaml", "envs/common.yaml", false},
		{"envs/prod/rbac.yaml", "other/file.yaml", false},
		{"envs/prod/rbac.yaml", "envs/prod/rbac.yaml", false},
	} {
		if got := s.Separate(c.a, c.b); got != c.want {
			t.Errorf("Separate(%s, %s) = %t, want %t", c.a, c.b, got, c.want)
		}
		if got := s.Separate(c.b, c.a); got != c.want {
			t.Errorf("Separate(%s, %s) = %t, want %t", c.b, c.a, got, c.want)
		}
	}
	for _, c := range []struct{ path, key, name string }{
		{"envs/prod/rbac.yaml", "envs/prod\x00envs/prod/rbac.yaml\x00", "envs/prod/rbac.yaml"},
		{"envs/prod/other.yaml", "envs/prod\x00", "envs/prod"},
		{"envs/staging/rbac.yaml", "envs/staging\x00", "envs/staging"},
		{"envs/common.yaml", "", ""},
		{"elsewhere/x.yaml", "", ""},
	} {
		if got := s.Key(c.path); got != c.key {
			t.Errorf("Key(%s) = %q, want %q", c.path, got, c.key)
		}
		if got := Name(c.key); got != c.name {
			t.Errorf("Name(%q) = %q, want %q", c.key, got, c.name)
		}
	}
}

func TestPath(t *testing.T) {
	if got := Path(finding.Location{File: "-", Template: "chart/templates/rbac.yaml"}); got != "chart/templates/rbac.yaml" {
		t.Errorf("Path of a Helm template = %q", got)
	}
	if got := Path(finding.Location{File: "a.yaml"}); got != "a.yaml" {
		t.Errorf("Path = %q", got)
	}
}
