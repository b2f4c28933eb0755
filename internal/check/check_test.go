package check

import (
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

func validCheck() Check {
	return Check{
		ID: "example-check", Title: "t", Severity: finding.Low, Category: "c",
		Rationale: "r", Remediation: "m", DocURL: "https://kubernetes.io/", Kinds: []string{"Pod"},
		Run: func(*Pass) {},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Check)
		want   string
	}{
		{name: "valid", mutate: func(*Check) {}},
		{name: "pss id", mutate: func(c *Check) { c.ID = "pss-capabilities_baseline" }},
		{name: "camel case", mutate: func(c *Check) { c.ID = "ExampleCheck" }, want: "kebab-case"},
		{name: "no doc", mutate: func(c *Check) { c.DocURL = "" }, want: "doc URL"},
		{name: "no remediation", mutate: func(c *Check) { c.Remediation = "" }, want: "remediation"},
		{name: "no kinds", mutate: func(c *Check) { c.Kinds = nil }, want: "needs Kinds and Run"},
		{name: "no run", mutate: func(c *Check) { c.Run = nil }, want: "needs Kinds and Run"},
		{name: "configuration", mutate: func(c *Check) { c.Scope, c.Kinds, c.Run = ScopeConfig, nil, nil }},
		{name: "configuration with run", mutate: func(c *Check) { c.Scope, c.Kinds = ScopeConfig, nil }, want: "has no Run"},
		{name: "rbac", mutate: func(c *Check) { c.Scope, c.Kinds, c.Run = ScopeRBAC, nil, nil }},
		{name: "rbac with kinds", mutate: func(c *Check) { c.Scope, c.Run = ScopeRBAC, nil }, want: "has no Run"},
		{name: "namespace labels", mutate: func(c *Check) { c.Needs = []string{"Namespace"} }},
		{name: "object reading others", mutate: func(c *Check) { c.Needs = []string{"NetworkPolicy"} }, want: "declare ScopeInput"},
		{name: "input", mutate: func(c *Check) { c.Scope, c.Needs = ScopeInput, []string{"NetworkPolicy"} }},
		{name: "input needing nothing", mutate: func(c *Check) { c.Scope = ScopeInput }, want: "beyond Namespace"},
		{name: "input skipping admission", mutate: func(c *Check) {
			c.Scope, c.Needs, c.SkipAdmission = ScopeInput, []string{"Secret"}, "x"
		}, want: "never runs at admission"},
		{name: "unknown scope", mutate: func(c *Check) { c.Scope = 9 }, want: "unknown scope"},
		{name: "unknown kind", mutate: func(c *Check) { c.Kinds = []string{"Deploymnet"} }, want: `unknown kind "Deploymnet"`},
		{name: "unknown needed kind", mutate: func(c *Check) { c.Scope, c.Needs = ScopeInput, []string{"Networkpolicy"} }, want: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCheck()
			tt.mutate(&c)
			err := Validate([]Check{c})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tt.want)
			}
		})
	}
	if err := Validate([]Check{validCheck(), validCheck()}); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate IDs: Validate() = %v", err)
	}
}
