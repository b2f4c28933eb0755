package node

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadKubeadmLayout reads a kubeadm control-plane node's files, as
// kubeadm v1.36 writes them, from a root directory.
func TestReadKubeadmLayout(t *testing.T) {
	n := Read(Host{Root: "testdata/cases/kubeadm/root"}, DefaultLayout)
	if len(n.Errors) > 0 {
		t.Fatalf("errors: %v", n.Errors)
	}
	var got []string
	for _, c := range n.Components {
		got = append(got, c.Component+" "+c.Ref.Name+" "+c.Version)
	}
	want := []string{
		"etcd etcd ",
		"kube-apiserver kube-apiserver v1.36.3",
		"kube-controller-manager kube-controller-manager v1.36.3",
		"kube-scheduler kube-scheduler v1.36.3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("components (-want +got):\n%s", diff)
	}
	api := n.Components[1]
	a, ok := api.Lookup("authorization-mode")
	if !ok || a.Value != "Node,RBAC" || a.Loc.String() != "/etc/kubernetes/manifests/kube-apiserver.yaml:17:7" {
		t.Errorf("authorization-mode = %+v", a)
	}
	k := n.Kubelet
	if k == nil || k.Flags == nil || k.Config == nil {
		t.Fatalf("kubelet = %+v", k)
	}
	// --config comes from the drop-in's Environment line; the
	// configuration file sets rotateCertificates.
	if a, _ := k.Flags.Lookup("config"); a.Value != "/var/lib/kubelet/config.yaml" || a.Loc.String() != "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf:4" {
		t.Errorf("--config = %+v", a)
	}
	if a, _ := k.Flags.Lookup("container-runtime-endpoint"); a.Loc.String() != "/var/lib/kubelet/kubeadm-flags.env:1" {
		t.Errorf("--container-runtime-endpoint = %+v", a)
	}
	tests := []struct {
		flag, value string
		origin      Origin
		loc         string
	}{
		{"anonymous-auth", "false", FromConfig, "/var/lib/kubelet/config.yaml:4:5"},
		{"authorization-mode", "Webhook", FromConfig, "/var/lib/kubelet/config.yaml:11:3"},
		{"rotate-certificates", "true", FromConfig, "/var/lib/kubelet/config.yaml:30:1"},
		// The file's default, not the command line's (10255).
		{"read-only-port", "0", FromDefault, "/var/lib/kubelet/config.yaml:26"},
		{"protect-kernel-defaults", "false", FromDefault, "/var/lib/kubelet/config.yaml:26"},
	}
	for _, tt := range tests {
		s := k.Setting(tt.flag)
		if s.Value != tt.value || s.Origin != tt.origin || s.Loc.String() != tt.loc {
			t.Errorf("kubelet %s = %q from %s at %s, want %q from %s at %s", tt.flag, s.Value, s.Origin, s.Loc, tt.value, tt.origin, tt.loc)
		}
	}
}

func TestParseArgs(t *testing.T) {
	toks := func(words ...string) []token {
		var out []token
		for _, w := range words {
			out = append(out, token{text: w})
		}
		return out
	}
	tests := []struct {
		name  string
		words []string
		want  map[string]string
	}{
		{"equals", []string{"--a=b", "-c=d"}, map[string]string{"a": "b", "c": "d"}},
		{"separate value", []string{"--authorization-mode", "RBAC"}, map[string]string{"authorization-mode": "RBAC"}},
		// pflag never takes the next word as a boolean's value.
		{"bool then word", []string{"--profiling", "false"}, map[string]string{"profiling": "true"}},
		{"bare", []string{"--x"}, map[string]string{"x": "true"}},
		{"end of flags", []string{"--a=1", "--", "--b=2"}, map[string]string{"a": "1"}},
		{"last wins", []string{"--a=1", "--a=2"}, map[string]string{"a": "2"}},
		// pflag's StringSlice adds each occurrence's items.
		{"slices add up", []string{"--authorization-mode=Node", "--authorization-mode=RBAC"}, map[string]string{"authorization-mode": "Node,RBAC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := &CommandLine{Args: parseArgs(toks(tt.words...))}
			got := map[string]string{}
			for _, a := range cl.Args {
				v, _ := cl.Lookup(a.Name)
				got[a.Name] = v.Value
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestShellWords(t *testing.T) {
	got := shellWords(`"KUBELET_ARGS=--a=b --c=d" 'x y' z\ w`)
	want := []string{"KUBELET_ARGS=--a=b --c=d", "x y", "z w"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
