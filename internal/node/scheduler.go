package node

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// The kube-scheduler reads its settings from the flags, or, when --config
// names a KubeSchedulerConfiguration, from that file: its deprecated flags
// (--profiling, --contention-profiling, --kubeconfig, --kube-api-*) are
// then ignored, while the secure serving, authentication, authorization
// and leader election flags still apply (Options.ApplyTo in
// k8s.io/kubernetes cmd/kube-scheduler/app/options, v1.36, and the flags'
// help text: "This parameter is ignored if a config file is specified in
// --config"). Of the flags judged here only --profiling is among them:
// profiling is then the file's enableProfiling, and the kubeconfig its
// clientConnection.kubeconfig; --bind-address still applies.

// schedulerConfigKeys are the top-level fields of a v1
// KubeSchedulerConfiguration. The scheduler decodes its file strictly:
// any other key (a misspelt enableprofiling) makes it refuse to start.
var schedulerConfigKeys = []string{
	"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
	"enableProfiling", "enableContentionProfiling", "percentageOfNodesToScore",
	"podInitialBackoffSeconds", "podMaxBackoffSeconds", "profiles", "extenders",
	"delayCacheUntilActive",
}

// SchedulerConfig is the KubeSchedulerConfiguration a scheduler's --config
// names, read for the fields judged here.
type SchedulerConfig struct {
	// Loc is the file (and the line of its kind).
	Loc finding.Location
	// EnableProfiling is the file's enableProfiling; its Origin is
	// FromDefault (true, the v1 default) when the file leaves it out (no
	// Loc) or sets it to null (Loc is the field).
	EnableProfiling Setting
	// Kubeconfig is clientConnection.kubeconfig, "" when unset.
	Kubeconfig string
}

// readSchedulerConfig reads a KubeSchedulerConfiguration as the scheduler
// would: only kubescheduler.config.k8s.io/v1, no unknown top-level field,
// enableProfiling a boolean. An error means the scheduler would not start.
func readSchedulerConfig(file string, root *yaml.Node) (*SchedulerConfig, error) {
	apiVersion, kind := header(root)
	if kind != "KubeSchedulerConfiguration" || apiVersion != "kubescheduler.config.k8s.io/v1" {
		return nil, fmt.Errorf("not a kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration (apiVersion %q, kind %q)", apiVersion, kind)
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a mapping")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := resolve(root.Content[i])
		if k == nil || !slices.Contains(schedulerConfigKeys, k.Value) {
			line := 0
			name := ""
			if k != nil {
				line, name = k.Line, k.Value
			}
			return nil, &posError{loc: finding.Location{File: file, Line: line}, msg: fmt.Sprintf("unknown field %q", name)}
		}
	}
	sc := &SchedulerConfig{Loc: finding.Location{File: file}}
	if k := keyNode(root, "kind"); k != nil {
		sc.Loc.Line = k.Line
	}
	sc.EnableProfiling = Setting{Name: "enableProfiling", Value: "true", Origin: FromDefault, Component: Scheduler}
	if k := keyNode(root, "enableProfiling"); k != nil {
		loc := finding.Location{File: file, Line: k.Line, Column: k.Column}
		v := get(root, "enableProfiling")
		if v == nil || v.Kind != yaml.ScalarNode {
			return nil, &posError{loc: loc, msg: "enableProfiling is not a boolean"}
		}
		if v.Tag == "!!null" {
			sc.EnableProfiling.Loc = loc
		} else {
			b, ok := yaml11Bool(v)
			if !ok {
				return nil, &posError{loc: loc, msg: fmt.Sprintf("enableProfiling: %q is not a boolean", v.Value)}
			}
			sc.EnableProfiling = Setting{Name: "enableProfiling", Value: fmt.Sprint(b), Origin: FromConfig, Loc: loc, Component: Scheduler}
		}
	}
	if s, ok := scalar(at(root, "clientConnection", "kubeconfig")); ok {
		sc.Kubeconfig = s
	}
	return sc, nil
}

// yaml11Bool reads a plain scalar as the scheduler's YAML decoder
// (sigs.k8s.io/yaml, YAML 1.1) reads a boolean: yes, on and y are true.
// A quoted scalar is a string, which a boolean field refuses.
func yaml11Bool(v *yaml.Node) (bool, bool) {
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 || (v.Tag != "" && v.Tag != "!!bool" && v.Tag != "!!str") {
		return false, false
	}
	switch v.Value {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// readSchedulerConfigFile reads the file a scheduler's --config names,
// once per path. A missing, unreadable or invalid file is an input error
// at the flag: the scheduler would not start.
func (n *Node) readSchedulerConfigFile(a Arg) {
	p := n.Host.Path(a.Value)
	if _, done := n.SchedulerConfigs[p]; done || n.schedulerConfigErrs[p] {
		return
	}
	fail := func(format string, args ...any) {
		n.schedulerConfigErrs[p] = true
		n.errorf(a.Loc.File, a.Loc.Line, "the scheduler's --config %s: "+format+": the scheduler would not start", append([]any{a.Value}, args...)...)
	}
	if !exists(p) {
		fail("does not exist")
		return
	}
	data, st, err := readFile(p)
	if err != nil {
		fail("%v", err)
		return
	}
	root, err := parseYAML(data)
	if err != nil {
		fail("%v", err)
		return
	}
	display := n.Host.Display(p)
	sc, err := readSchedulerConfig(display, root)
	if err != nil {
		fail("%v", err)
		return
	}
	n.loaded[p] = true
	n.addFile(p, RoleSchedulerConfig, st)
	n.SchedulerConfigs[p] = sc
}

// schedulerConfig returns the KubeSchedulerConfiguration a scheduler runs
// with: configured reports whether --config is given, sc is nil when its
// file could not be read (an input error says why).
func (n *Node) schedulerConfig(c *CommandLine) (a Arg, sc *SchedulerConfig, configured bool) {
	a, ok := c.Lookup("config")
	if !ok || a.Value == "" {
		return a, nil, false
	}
	return a, n.SchedulerConfigs[n.Host.Path(a.Value)], true
}

// schedulerProfiling judges whether a scheduler serves /debug/pprof: from
// --profiling, or with --config from the file's enableProfiling.
func schedulerProfiling() Check {
	return Check{Check: meta("scheduler-profiling", Scheduler+" serves profiling endpoints", finding.Low,
		"/debug/pprof reveals internals and costs CPU; it is for debugging, not production.",
		"Set --profiling=false, or, when --config names a KubeSchedulerConfiguration (which makes the scheduler ignore --profiling), set enableProfiling: false in that file.", docScheduler),
		CIS: []string{"1.4.1"}, run: func(n *Node, r *reporter) {
			each(n, Scheduler, func(c *CommandLine) {
				cfg, sc, configured := n.schedulerConfig(c)
				if !configured {
					if s := c.Setting("profiling"); isTrue(s.Value) {
						r.setting(c.Ref, s, "profiling is on")
					}
					return
				}
				// A remote node's file is on the node (Unjudged says so);
				// an unreadable one is an input error already.
				if n.Remote || sc == nil {
					return
				}
				s := sc.EnableProfiling
				if !isTrue(s.Value) {
					return
				}
				detail := s.String()
				switch {
				case s.Origin == FromDefault && s.Loc.File == "":
					// Not in the file: the finding is at the flag that
					// names it.
					s.Loc = cfg.Loc
					detail = fmt.Sprintf("enableProfiling is not set in the KubeSchedulerConfiguration %s (--config at %s): its default is true", sc.Loc.File, cfg.Loc)
				case s.Origin == FromDefault:
					detail = fmt.Sprintf("enableProfiling is null in the KubeSchedulerConfiguration %s: its default is true", s.Loc)
				}
				if f, ok := c.Lookup("profiling"); ok {
					detail += fmt.Sprintf("; --profiling=%s at %s is ignored when --config is given", f.Value, f.Loc)
				}
				r.report(c.Ref, s.Loc, "profiling is on", detail)
			})
		}}
}
