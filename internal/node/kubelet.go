package node

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// KubeletConfig is a KubeletConfiguration file, and its drop-ins, read
// for the fields judged here.
type KubeletConfig struct {
	// Loc is the file (and the line of its kind).
	Loc    finding.Location
	Fields map[string]Setting
}

// kubeletConfigPaths are the fields read from a KubeletConfiguration.
func kubeletConfigPaths() []string {
	paths := make([]string, 0, len(KubeletConfigDefaults))
	for p := range KubeletConfigDefaults {
		paths = append(paths, p)
	}
	return paths
}

// readKubeletConfig reads a KubeletConfiguration; into, when not nil, is a
// configuration its fields override (a drop-in over the main file).
func readKubeletConfig(file string, root *yaml.Node, into *KubeletConfig) (*KubeletConfig, error) {
	apiVersion, kind := header(root)
	if kind != "KubeletConfiguration" || (apiVersion != "kubelet.config.k8s.io/v1beta1" && apiVersion != "kubelet.config.k8s.io/v1") {
		return nil, fmt.Errorf("not a KubeletConfiguration (apiVersion %q, kind %q)", apiVersion, kind)
	}
	kc := into
	if kc == nil {
		kc = &KubeletConfig{Loc: finding.Location{File: file}, Fields: map[string]Setting{}}
		if k := keyNode(root, "kind"); k != nil {
			kc.Loc.Line = k.Line
		}
	}
	for _, path := range kubeletConfigPaths() {
		keys := strings.Split(path, ".")
		parent := at(root, keys[:len(keys)-1]...)
		k := keyNode(parent, keys[len(keys)-1])
		if k == nil {
			continue
		}
		v := get(parent, keys[len(keys)-1])
		var value string
		if seq := items(v); v != nil && v.Kind == yaml.SequenceNode {
			var parts []string
			for _, it := range seq {
				s, _ := scalar(it)
				parts = append(parts, s)
			}
			value = strings.Join(parts, ",")
		} else if s, ok := scalar(v); ok {
			value = s
			if durationFields[path] {
				// The kubelet renders what it parsed: 5m runs as 5m0s.
				if d, err := time.ParseDuration(s); err == nil {
					value = d.String()
				}
			}
		} else {
			return nil, fmt.Errorf("%s:%d: %s is not a value", file, k.Line, path)
		}
		kc.Fields[path] = Setting{Name: path, Value: value, Origin: FromConfig,
			Loc: finding.Location{File: file, Line: k.Line, Column: k.Column}, Component: Kubelet}
	}
	return kc, nil
}

// KubeletNode is what a kubelet runs with: its flags and its configuration
// file.
type KubeletNode struct {
	// Flags are the kubelet's flags, from its unit and environment files;
	// a kubelet found only by its configuration file has none.
	Flags *CommandLine
	// Config is the file --config names, nil when the kubelet uses none;
	// for a kubelet read through the API, its running configuration.
	Config *KubeletConfig
	// Node names the Node whose kubelet was read through the API; empty
	// for a kubelet read from files.
	Node string
}

// Setting returns the effective value of a kubelet setting named by its
// flag: the flag, which the kubelet lets override its configuration file
// (except the flags it ORs with their field, kubeletORedFlags), else the
// file's field, else the default of the file (when there is one)
// or of the command line.
func (k *KubeletNode) Setting(flag string) Setting {
	if a, ok := k.Flags.Lookup(flag); ok {
		s := Setting{Name: flag, Value: a.Value, Origin: FromFlag, Loc: a.Loc, Component: Kubelet}
		if on, err := strconv.ParseBool(a.Value); kubeletORedFlags[flag] && err == nil && !on && k.Config != nil {
			// A false flag the kubelet ORs with its field does not
			// turn the file's true off.
			if c, ok := k.Config.Fields[kubeletFields[flag]]; ok {
				if v, err := strconv.ParseBool(c.Value); err == nil && v {
					return c
				}
			}
		}
		return s
	}
	if k.Config != nil {
		path := kubeletFields[flag]
		if s, ok := k.Config.Fields[path]; ok && !(zeroDefaulted[path] && isZeroDuration(s.Value)) {
			return s
		}
		d, ok := KubeletConfigDefaults[path]
		if !ok {
			panic("node: no KubeletConfiguration default for --" + flag)
		}
		return Setting{Name: path, Value: d, Origin: FromDefault, Loc: k.Config.Loc, Component: Kubelet}
	}
	s := Setting{Name: flag, Value: defaultOf(Kubelet, flag), Origin: FromDefault, Component: Kubelet}
	if k.Flags != nil {
		s.Loc = k.Flags.Loc
	}
	return s
}

// Ref names the kubelet in findings.
func (k *KubeletNode) Ref() finding.ObjectRef {
	if k.Node != "" {
		return finding.ObjectRef{APIVersion: "v1", Kind: "Node", Name: k.Node}
	}
	return finding.ObjectRef{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration", Name: "kubelet"}
}

// envVar is a variable of a unit's environment and where it is set.
type envVar struct {
	value string
	loc   finding.Location
}

// unitReader gathers a kubelet's command line from systemd unit files and
// the environment files they name, the way systemd puts them together: the
// last ExecStart (an empty one resets), variables from Environment= and
// EnvironmentFile= lines, later ones winning.
type unitReader struct {
	host  Host
	env   map[string]envVar
	exec  []token
	execL finding.Location
	files []string // the unit and environment files read, for permission checks
	errs  []finding.InputError
}

// readUnit reads one unit file or drop-in.
func (u *unitReader) readUnit(path string) {
	data, _, err := readFile(path)
	if err != nil {
		u.errs = append(u.errs, finding.InputError{Location: finding.Location{File: u.host.Display(path)}, Message: err.Error()})
		return
	}
	file := u.host.Display(path)
	u.files = append(u.files, path)
	for _, line := range joinContinuations(string(data)) {
		line.text = strings.TrimSpace(line.text)
		key, value, ok := strings.Cut(line.text, "=")
		if !ok || strings.HasPrefix(line.text, "#") || strings.HasPrefix(line.text, ";") {
			continue
		}
		loc := finding.Location{File: file, Line: line.line}
		switch strings.TrimSpace(key) {
		case "Environment":
			for _, w := range shellWords(value) {
				if k, v, ok := strings.Cut(w, "="); ok {
					u.env[k] = envVar{v, loc}
				}
			}
		case "EnvironmentFile":
			optional := strings.HasPrefix(strings.TrimSpace(value), "-")
			p := strings.TrimPrefix(strings.TrimSpace(value), "-")
			u.readEnvFile(u.host.Path(p), optional)
		case "ExecStart":
			value = strings.TrimSpace(value)
			if value == "" {
				u.exec, u.execL = nil, finding.Location{}
				continue
			}
			// Prefixes such as - and @ change how systemd runs it.
			value = strings.TrimLeft(value, "-@:+!")
			u.exec = nil
			for _, w := range shellWords(value) {
				u.exec = append(u.exec, token{w, loc})
			}
			u.execL = loc
		}
	}
}

// readEnvFile reads KEY=value lines (kubeadm-flags.env, /etc/default/kubelet).
func (u *unitReader) readEnvFile(path string, optional bool) {
	data, _, err := readFile(path)
	if err != nil {
		if !optional {
			u.errs = append(u.errs, finding.InputError{Location: finding.Location{File: u.host.Display(path)}, Message: err.Error()})
		}
		return
	}
	u.files = append(u.files, path)
	file := u.host.Display(path)
	for _, line := range joinContinuations(string(data)) {
		t := strings.TrimSpace(line.text)
		if t == "" || t[0] == '#' {
			continue
		}
		t = strings.TrimPrefix(t, "export ")
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		words := shellWords(v)
		u.env[strings.TrimSpace(k)] = envVar{strings.Join(words, " "), finding.Location{File: file, Line: line.line}}
	}
}

// commandLine expands the variables of the ExecStart into the kubelet's
// command line; nil when the unit runs no kubelet.
func (u *unitReader) commandLine() *CommandLine {
	if len(u.exec) == 0 || componentOf(u.exec[0].text) != Kubelet {
		return nil
	}
	var toks []token
	for _, t := range u.exec[1:] {
		name, braced := "", false
		switch {
		case strings.HasPrefix(t.text, "${") && strings.HasSuffix(t.text, "}"):
			name, braced = t.text[2:len(t.text)-1], true
		case strings.HasPrefix(t.text, "$"):
			name = t.text[1:]
		}
		if name == "" {
			toks = append(toks, t)
			continue
		}
		v, ok := u.env[name]
		if !ok {
			continue // systemd expands an unset variable to nothing
		}
		if braced {
			// ${VAR} is one word in systemd.
			toks = append(toks, token{v.value, v.loc})
			continue
		}
		for _, w := range strings.Fields(v.value) {
			toks = append(toks, token{w, v.loc})
		}
	}
	return &CommandLine{
		Component: Kubelet,
		Ref:       finding.ObjectRef{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration", Name: "kubelet"},
		Loc:       u.execL,
		Args:      parseArgs(toks),
	}
}

// envCommandLine makes a kubelet command line from an environment file
// alone (kubeadm-flags.env found without its unit): every variable's
// words, in file order.
func envCommandLine(host Host, path string) (*CommandLine, []finding.InputError) {
	u := &unitReader{host: host, env: map[string]envVar{}}
	u.readEnvFile(path, false)
	var toks []token
	for _, line := range sortedEnv(u.env) {
		for _, w := range strings.Fields(line.value) {
			toks = append(toks, token{w, line.loc})
		}
	}
	return &CommandLine{
		Component: Kubelet,
		Ref:       finding.ObjectRef{APIVersion: "kubelet.config.k8s.io/v1beta1", Kind: "KubeletConfiguration", Name: "kubelet"},
		Loc:       finding.Location{File: host.Display(path), Line: 1},
		Args:      parseArgs(toks),
	}, u.errs
}

func sortedEnv(env map[string]envVar) []envVar {
	out := make([]envVar, 0, len(env))
	for _, v := range env {
		out = append(out, v)
	}
	// Line order, so that a later flag wins as it would on the command line.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].loc.Line < out[j-1].loc.Line; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// numberedLine is a logical line and the line it starts on.
type numberedLine struct {
	text string
	line int
}

// joinContinuations splits text into lines, joining those ended by a
// backslash to the next, as systemd and shells do.
func joinContinuations(text string) []numberedLine {
	var out []numberedLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(l)
		out = append(out, numberedLine{cur.String(), start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, numberedLine{cur.String(), start})
	}
	return out
}

// shellWords splits a value into words, honouring single and double
// quotes and backslash escapes, as systemd and sh do for these files.
func shellWords(s string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote byte
		in    bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, in = c, true
		case c == '\\' && i+1 < len(s) && quote != '\'':
			i++
			cur.WriteByte(s[i])
			in = true
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// unitPaths are where systemd looks for the kubelet's unit, strongest
// first.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

// readKubeletUnit reads the kubelet's systemd unit and drop-ins; nil when
// there is no unit.
func readKubeletUnit(host Host) (*CommandLine, []string, []finding.InputError) {
	u := &unitReader{host: host, env: map[string]envVar{}}
	found := false
	for _, d := range unitDirs {
		p := host.Path(filepath.Join(d, "kubelet.service"))
		if exists(p) {
			u.readUnit(p)
			found = true
			break
		}
	}
	// Drop-ins of the same name: the strongest directory's wins; all are
	// applied in name order.
	dropins := map[string]string{}
	for i := len(unitDirs) - 1; i >= 0; i-- {
		dir := host.Path(filepath.Join(unitDirs[i], "kubelet.service.d"))
		entries, err := readDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".conf") {
				dropins[e.Name()] = filepath.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(dropins))
	for n := range dropins {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		u.readUnit(dropins[n])
		found = true
	}
	if !found {
		return nil, nil, nil
	}
	return u.commandLine(), u.files, u.errs
}

// atoi parses an integer setting; ok is false when it is not one.
func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// durationFields are the KubeletConfiguration fields holding durations.
var durationFields = map[string]bool{"streamingConnectionIdleTimeout": true}

// zeroDefaulted are the KubeletConfiguration fields whose zero value the
// kubelet replaces by the default when it loads the file: kubeadm writes
// streamingConnectionIdleTimeout: 0s, and the kubelet runs with 4h.
var zeroDefaulted = map[string]bool{"streamingConnectionIdleTimeout": true}

func isZeroDuration(v string) bool {
	v = strings.TrimSpace(v)
	return v == "0" || v == "0s" || v == "0m0s" || v == "0h0m0s" || v == "\"\""
}
