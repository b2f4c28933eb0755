// Package run is the layer between kubeguard's fronts (the commands and the
// webhook) and the engine. It owns what every front does the same way:
// choosing the checks a front runs (by the scope each check declares),
// applying the configuration (disabled checks, parameters, exemptions,
// baselines; parsed once, typed), and the pipelines that feed the engine
// from files (Scan), from a live cluster (ScanCluster) and into the RBAC
// analysis (LoadRBAC, LoadRBACLive). It prints nothing: the fronts say
// what it found.
package run

import (
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// Front is where checks run.
type Front int

const (
	// FrontScan is kubeguard scan: manifests, every check an input can
	// answer; the RBAC checks are `kubeguard rbac risks`'s.
	FrontScan Front = iota
	// FrontCluster is kubeguard cluster: a live cluster, the RBAC analysis
	// included.
	FrontCluster
	// FrontAdmission is the webhook: one object per request.
	FrontAdmission
)

// Checks returns the checks of all that front f runs, by the scope each
// declares.
func Checks(all []check.Check, f Front) []check.Check {
	var keep func(c *check.Check) bool
	switch f {
	case FrontScan:
		keep = func(c *check.Check) bool {
			return c.Scope == check.ScopeObject || c.Scope == check.ScopeInput || c.Scope == check.ScopeConfig
		}
	case FrontCluster:
		keep = func(c *check.Check) bool {
			return c.Scope == check.ScopeObject || c.Scope == check.ScopeInput || c.Scope == check.ScopeRBAC || c.Scope == check.ScopeConfig
		}
	case FrontAdmission:
		keep = (*check.Check).AtAdmission
	default:
		panic(fmt.Sprintf("run: unknown front %d", f))
	}
	var out []check.Check
	for i := range all {
		if keep(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}

// Settings are a run's configuration as the user gave it, parsed.
type Settings struct {
	// ConfigFile is the configuration file; empty means the nearest one
	// above SearchFrom, or none when SearchFrom is empty.
	ConfigFile string
	SearchFrom []string
	// Baseline is a JSON report of accepted findings; empty means none.
	Baseline string
	// NoAnnotations ignores kubeguard.io/ignore annotations.
	NoAnnotations bool
	// PodSecurity is the level and version every pod template is held to.
	PodSecurity *api.LevelVersion
	// NoRBACDefaults leaves the API server's built-in roles out of the
	// RBAC analysis checks ask.
	NoRBACDefaults bool
	// Namespace is where objects without one are applied, as kubectl
	// apply -n applies them; empty means "default".
	Namespace string
	// StrictFields refuses manifests' unknown fields (check.Options).
	StrictFields bool
	// Now is when exemptions expire against; zero means the current time.
	Now time.Time
}

// Plan is what a run does: the checks, their options, and the filter that
// marks suppressed findings.
type Plan struct {
	Checks  []check.Check
	Options check.Options
	Filter  *suppress.Filter
	// ConfigFile is the configuration file applied, empty when none.
	ConfigFile string
	// Exclude are the configuration's globs of paths a scan skips.
	Exclude []string
}

// Configure applies the settings to the checks a front runs.
func Configure(cs []check.Check, known func(id string) bool, s Settings) (*Plan, error) {
	now := s.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	p := &Plan{
		Checks:  cs,
		Options: check.Options{PodSecurity: s.PodSecurity, NoRBACDefaults: s.NoRBACDefaults, Namespace: s.Namespace, StrictFields: s.StrictFields},
		Filter:  &suppress.Filter{NoAnnotations: s.NoAnnotations, Now: now},
	}
	path := s.ConfigFile
	if path == "" && len(s.SearchFrom) > 0 {
		var err error
		if path, err = config.Find(s.SearchFrom); err != nil {
			return nil, err
		}
	}
	if path != "" {
		cfg, err := config.Load(path, known)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		p.ConfigFile, p.Filter.Config, p.Exclude = path, cfg, cfg.Exclude
		p.Checks, p.Options = Apply(cs, cfg, p.Options)
	}
	if s.Baseline != "" {
		b, err := suppress.LoadBaseline(s.Baseline)
		if err != nil {
			return nil, err
		}
		p.Filter.Baseline = b
	}
	return p, nil
}

// Apply applies a configuration to checks and their options: the checks it
// disables are left out, and its parameters set. The webhook calls it on
// every reload of the file.
func Apply(cs []check.Check, cfg *config.Config, opts check.Options) ([]check.Check, check.Options) {
	if cfg == nil {
		return cs, opts
	}
	opts.AllowedRegistries = cfg.Parameters.AllowedRegistries
	opts.TrustedHostPaths = cfg.Parameters.TrustedHostPaths
	kept := make([]check.Check, 0, len(cs))
	for _, c := range cs {
		if !cfg.Disabled(c.ID) {
			kept = append(kept, c)
		}
	}
	return kept, opts
}

// CollectAt sets the garbage collector's target to percent, unless the
// user set GOGC, and returns what restores the previous one. Each front
// that calls it says why its heap wants another target than the default.
func CollectAt(percent int) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
}

// Judge applies the plan to findings made outside the object engine (the
// RBAC risks of rbac risks, audit, node), whose objects carry no
// annotations: the findings of checks the configuration disables are
// dropped, and the rest get its severity overrides and are marked by its
// exemptions and the baseline. Expired exemptions are reported first.
func (p *Plan) Judge(fs []finding.Finding) []finding.Finding {
	kept := make(map[string]bool, len(p.Checks))
	for _, c := range p.Checks {
		kept[c.ID] = true
	}
	fs = slices.DeleteFunc(fs, func(f finding.Finding) bool { return !kept[f.CheckID] })
	p.Filter.Apply(nil, fs)
	return append(p.Filter.Expired(), fs...)
}
