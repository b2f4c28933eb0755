package config

import "testing"

func TestMatchesSubject(t *testing.T) {
	images := map[string]string{"app": "registry.example.com/team/app:1", "proxy": "mesh.example.com/proxy:2"}
	tests := []struct {
		name       string
		e          Exemption
		containers []string
		sa         string
		want       bool
	}{
		{"service account", Exemption{Checks: []string{"x"}, ServiceAccount: "agent"}, nil, "agent", true},
		{"other service account", Exemption{Checks: []string{"x"}, ServiceAccount: "agent"}, nil, "default", false},
		{"image of the finding's container", Exemption{Checks: []string{"x"}, Image: "mesh.example.com/*"}, []string{"proxy"}, "default", true},
		{"image of another container", Exemption{Checks: []string{"x"}, Image: "mesh.example.com/*"}, []string{"app"}, "default", false},
		{"pod-level finding needs every image", Exemption{Checks: []string{"x"}, Image: "mesh.example.com/*"}, nil, "default", false},
		{"glob stops at slash", Exemption{Checks: []string{"x"}, Image: "registry.example.com/*"}, []string{"app"}, "default", false},
		{"other check", Exemption{Checks: []string{"y"}, ServiceAccount: "agent"}, nil, "agent", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.MatchesSubject("x", "Pod", "ns", "p", tt.containers, tt.sa, images); got != tt.want {
				t.Errorf("MatchesSubject = %v, want %v", got, tt.want)
			}
			if tt.e.Matches("x", "Pod", "ns", "p", tt.containers) {
				t.Error("Matches covers a subject-scoped exemption; a scan would widen it")
			}
		})
	}
}
