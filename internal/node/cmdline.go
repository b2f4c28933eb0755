package node

import (
	"path/filepath"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Component names, as their binaries are called.
const (
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	Etcd              = "etcd"
	Kubelet           = "kubelet"
)

// components are the binaries whose command lines are judged.
var components = []string{APIServer, ControllerManager, Scheduler, Etcd, Kubelet}

// componentOf names the component a program path runs, or "".
func componentOf(program string) string {
	base := filepath.Base(program)
	for _, c := range components {
		if base == c {
			return c
		}
	}
	return ""
}

// Arg is one flag of a command line: its name without dashes, its value
// ("true" for a boolean flag given bare) and where it is written.
type Arg struct {
	Name  string
	Value string
	Loc   finding.Location
}

// CommandLine is the flags a component runs with.
type CommandLine struct {
	Component string
	// Container is the container of a static or mirror pod that runs it.
	Container string
	// Ref names the component in findings: the static Pod, or the
	// process.
	Ref finding.ObjectRef
	// Loc is where the command line is written: the container's command
	// in a manifest, the ExecStart of a unit.
	Loc finding.Location
	// Version is the component's version as its image tag gives it
	// (v1.36.3), empty when unknown.
	Version string
	Args    []Arg
}

// Lookup returns a flag's value and where it was last given. For most
// flags, as in pflag and Go's flag package, the last occurrence wins; the
// list and map flags of the Kubernetes components (sliceFlags) add every
// occurrence's items, as pflag's StringSlice and map values do.
func (c *CommandLine) Lookup(name string) (Arg, bool) {
	if c == nil {
		return Arg{}, false
	}
	var (
		found  Arg
		ok     bool
		values []string
	)
	for _, a := range c.Args {
		if a.Name == name {
			found, ok = a, true
			values = append(values, a.Value)
		}
	}
	if ok && len(values) > 1 && c.Component != Etcd && sliceFlags[name] {
		found.Value = strings.Join(values, ",")
	}
	return found, ok
}

// sliceFlags are the Kubernetes components' flags whose repeated
// occurrences accumulate (pflag StringSlice and map values).
var sliceFlags = map[string]bool{
	"authorization-mode":        true,
	"enable-admission-plugins":  true,
	"disable-admission-plugins": true,
	"tls-cipher-suites":         true,
	"etcd-servers":              true,
	"feature-gates":             true,
	"service-account-key-file":  true,
	"service-account-issuer":    true,
}

// token is one word of a command line and where it is written.
type token struct {
	text string
	loc  finding.Location
}

// boolFlags are the boolean flags of the components. A boolean flag never
// takes the next word as its value (pflag and Go's flag package both want
// --flag=false), so "--profiling false" leaves profiling true and "false"
// a positional argument: exactly what the component would do.
var boolFlags = map[string]bool{
	"anonymous-auth":                          true,
	"profiling":                               true,
	"contention-profiling":                    true,
	"use-service-account-credentials":         true,
	"service-account-lookup":                  true,
	"service-account-extend-token-expiration": true,
	"allow-privileged":                        true,
	"client-cert-auth":                        true,
	"peer-client-cert-auth":                   true,
	"auto-tls":                                true,
	"peer-auto-tls":                           true,
	"rotate-certificates":                     true,
	"protect-kernel-defaults":                 true,
	"make-iptables-util-chains":               true,
	"authentication-token-webhook":            true,
	"seccomp-default":                         true,
	"enable-v2":                               true,
	"enable-pprof":                            true,
	"unsafe-no-fsync":                         true,
	"v":                                       false,
}

// parseArgs turns the words after the program name into flags, the way
// pflag reads them: --name=value, --name value (not for booleans), --name
// for a boolean, one or two leading dashes; "--" ends the flags.
func parseArgs(toks []token) []Arg {
	var out []Arg
	for i := 0; i < len(toks); i++ {
		t := toks[i].text
		if t == "--" {
			break
		}
		if len(t) < 2 || t[0] != '-' {
			continue // a positional argument
		}
		name := strings.TrimPrefix(strings.TrimPrefix(t, "-"), "-")
		if name == "" || name[0] == '-' {
			continue
		}
		if n, v, ok := strings.Cut(name, "="); ok {
			out = append(out, Arg{Name: n, Value: v, Loc: toks[i].loc})
			continue
		}
		if !boolFlags[name] && i+1 < len(toks) && !strings.HasPrefix(toks[i+1].text, "-") {
			out = append(out, Arg{Name: name, Value: toks[i+1].text, Loc: toks[i].loc})
			i++
			continue
		}
		out = append(out, Arg{Name: name, Value: "true", Loc: toks[i].loc})
	}
	return out
}

// listValue splits a comma-separated flag value, trimming spaces and
// dropping empty items.
func listValue(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// imageVersion returns the tag of an image reference when it looks like
// a Kubernetes version (v1.36.3), else "".
func imageVersion(image string) string {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndexByte(image, '/')
	colon := strings.LastIndexByte(image, ':')
	if colon <= slash {
		return ""
	}
	tag := image[colon+1:]
	if !strings.HasPrefix(tag, "v") {
		return ""
	}
	return tag
}
