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
		{name: "no kinds", mutate: func(c *Check) { c.Kinds = nil }, want: "no kinds"},
		{name: "scan-level", mutate: func(c *Check) { c.Kinds, c.Run = nil, nil }},
		{name: "no run", mutate: func(c *Check) { c.Run = nil }, want: "no Run"},
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
