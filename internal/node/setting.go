package node

import (
	"fmt"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Origin says what decided a setting.
type Origin string

// Origins, strongest first.
const (
	FromFlag    Origin = "flag"
	FromConfig  Origin = "config file"
	FromDefault Origin = "default"
	// FromRunning is a kubelet's running configuration as its /configz
	// serves it through the API: defaults applied, flags merged.
	FromRunning Origin = "running configuration"
)

// Setting is the effective value of one setting of a component and what
// decided it.
type Setting struct {
	// Name is the flag name, or the configuration field when a file set it.
	Name   string
	Value  string
	Origin Origin
	// Loc is where the flag or field is written; for a default, where
	// the component's command line or configuration file is.
	Loc finding.Location
	// Component and Version name whose default applied.
	Component, Version string
}

// String says the setting and where it comes from, as reports show it.
func (s Setting) String() string {
	switch s.Origin {
	case FromFlag:
		return fmt.Sprintf("--%s=%s (flag at %s)", s.Name, s.Value, s.Loc)
	case FromConfig:
		return fmt.Sprintf("%s: %s (configuration file %s)", s.Name, s.Value, s.Loc)
	case FromRunning:
		return fmt.Sprintf("%s: %s (the kubelet's running configuration, /configz)", s.Name, s.Value)
	}
	v := s.Value
	if v == "" {
		v = `""`
	}
	ver := s.Version
	if ver == "" {
		ver = "v1.36"
	}
	return fmt.Sprintf("%s is not set: %s's default for %s is %s", s.Name, s.Component, ver, v)
}

// Setting returns the effective value of a flag of a command line: the
// flag when given, else the component's default.
func (c *CommandLine) Setting(name string) Setting {
	if a, ok := c.Lookup(name); ok {
		return Setting{Name: name, Value: a.Value, Origin: FromFlag, Loc: a.Loc, Component: c.Component, Version: c.Version}
	}
	return Setting{Name: name, Value: defaultOf(c.Component, name), Origin: FromDefault, Loc: c.Loc, Component: c.Component, Version: c.Version}
}

// defaultOf looks a default up; a setting missing from the table is a
// programming error, caught by the tests that run every check.
func defaultOf(component, name string) string {
	d, ok := Defaults[component][name]
	if !ok {
		panic(fmt.Sprintf("node: no default for %s --%s", component, name))
	}
	return d
}
