package node

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// TestKubeletFlagOverConfig holds KubeletNode.Setting to the kubelet's
// precedence: a flag overrides its configuration field, except
// --seccomp-default, which the kubelet ORs with seccompDefault (test/e2e
// proves the flag is not bound to the field).
func TestKubeletFlagOverConfig(t *testing.T) {
	toks := func(words ...string) []token {
		var out []token
		for _, w := range words {
			out = append(out, token{text: w, loc: finding.Location{File: "kubelet.service", Line: 1}})
		}
		return out
	}
	config := func(fields map[string]string) *KubeletConfig {
		kc := &KubeletConfig{Loc: finding.Location{File: "config.yaml", Line: 2}, Fields: map[string]Setting{}}
		for path, v := range fields {
			kc.Fields[path] = Setting{Name: path, Value: v, Origin: FromConfig, Loc: finding.Location{File: "config.yaml", Line: 9}, Component: Kubelet}
		}
		return kc
	}
	tests := []struct {
		name   string
		flags  []string
		config map[string]string
		flag   string
		value  string
		origin Origin
	}{
		{"seccomp: false flag leaves the file's true on", []string{"--seccomp-default=false"}, map[string]string{"seccompDefault": "true"}, "seccomp-default", "true", FromConfig},
		{"seccomp: true flag over a false file", []string{"--seccomp-default=true"}, map[string]string{"seccompDefault": "false"}, "seccomp-default", "true", FromFlag},
		{"seccomp: false flag, file silent", []string{"--seccomp-default=false"}, map[string]string{}, "seccomp-default", "false", FromFlag},
		{"seccomp: false flag, no file", []string{"--seccomp-default=false"}, nil, "seccomp-default", "false", FromFlag},
		{"seccomp: file alone", nil, map[string]string{"seccompDefault": "true"}, "seccomp-default", "true", FromConfig},
		{"other flags override their field", []string{"--anonymous-auth=false"}, map[string]string{"authentication.anonymous.enabled": "true"}, "anonymous-auth", "false", FromFlag},
		{"and the other way", []string{"--protect-kernel-defaults=false"}, map[string]string{"protectKernelDefaults": "true"}, "protect-kernel-defaults", "false", FromFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &KubeletNode{Flags: &CommandLine{Component: Kubelet, Args: parseArgs(toks(tt.flags...))}}
			if tt.config != nil {
				k.Config = config(tt.config)
			}
			s := k.Setting(tt.flag)
			if s.Value != tt.value || s.Origin != tt.origin {
				t.Errorf("kubelet %s = %q from %s, want %q from %s", tt.flag, s.Value, s.Origin, tt.value, tt.origin)
			}
		})
	}
}
