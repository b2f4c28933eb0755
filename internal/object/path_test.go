package object

import "testing"

func TestPathString(t *testing.T) {
	tests := []struct {
		name string
		path Path
		want string
	}{
		{name: "empty", path: nil, want: ""},
		{name: "keys and index", path: Path{}.Keys("spec", "containers").Index(1).Keys("securityContext", "privileged"), want: "spec.containers[1].securityContext.privileged"},
		{name: "quoted key", path: Path{}.Keys("metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"), want: `metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]`},
		{name: "index first", path: Path{}.Index(0).Key("a"), want: "[0].a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.path.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPathImmutable(t *testing.T) {
	base := Path{}.Keys("spec", "containers")
	a := base.Index(0)
	b := base.Index(1)
	if a.String() != "spec.containers[0]" || b.String() != "spec.containers[1]" {
		t.Fatalf("extending a shared prefix changed a sibling: %s, %s", a, b)
	}
}

func TestParsePathRoundTrip(t *testing.T) {
	for _, s := range []string{
		"spec.containers[1].securityContext.privileged",
		`metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]`,
		"spec.volumes[0].hostPath",
		"items[3]",
	} {
		t.Run(s, func(t *testing.T) {
			p, err := ParsePath(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != s {
				t.Errorf("ParsePath(%q).String() = %q", s, got)
			}
		})
	}
	for _, bad := range []string{".a", "a[", "a[x]", `a["b`} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) succeeded, want error", bad)
		}
	}
}
