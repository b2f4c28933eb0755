// Package node holds kubeguard node to what the components really do: its
// table of defaults to the upstream defaulting code, and its verdicts to a
// running kube-apiserver and etcd.
package node

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.etcd.io/etcd/server/v3/embed"
	kubeletconfig "k8s.io/kubelet/config/v1beta1"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kubeapiserveradmission "k8s.io/kubernetes/pkg/kubeapiserver/options"
	kubeletscheme "k8s.io/kubernetes/pkg/kubelet/apis/config/scheme"
	kubeletv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"

	"github.com/kubeguard/kubeguard/internal/node"
)

// flagDefault renders a pflag default as kubeguard's table writes it:
// lists without brackets.
func flagDefault(v string) string {
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		return v[1 : len(v)-1]
	}
	return v
}

// TestAPIServerDefaults compares the table with the defaults
// kube-apiserver registers for its flags, after the completion step that
// gives --authorization-mode its default.
func TestAPIServerDefaults(t *testing.T) {
	s := apiserveroptions.NewServerRunOptions()
	fss := s.Flags()
	// Complete is where an empty --authorization-mode becomes AlwaysAllow.
	if errs := s.Authorization.Complete(); len(errs) > 0 {
		t.Fatal(errs)
	}
	completed := map[string]string{"authorization-mode": strings.Join(s.Authorization.Modes, ",")}
	for name, want := range node.Defaults[node.APIServer] {
		got, found := "", false
		for _, fs := range fss.FlagSets {
			if f := fs.Lookup(name); f != nil {
				got, found = flagDefault(f.DefValue), true
			}
		}
		if c, ok := completed[name]; ok {
			got = c
		}
		if !found {
			t.Errorf("kube-apiserver has no flag --%s", name)
			continue
		}
		if got != want {
			t.Errorf("kube-apiserver --%s defaults to %q; the table says %q", name, got, want)
		}
	}
}

// TestAdmissionDefaults compares the table of default-on plugins with the
// API server's own list of plugins it leaves off.
func TestAdmissionDefaults(t *testing.T) {
	off := kubeapiserveradmission.DefaultOffAdmissionPlugins()
	all := map[string]bool{}
	for _, p := range kubeapiserveradmission.AllOrderedPlugins {
		all[p] = true
	}
	for p, on := range node.DefaultOnAdmissionPlugins {
		if !all[p] {
			t.Errorf("%s is not an admission plugin of kube-apiserver", p)
		}
		if got := !off.Has(p); got != on {
			t.Errorf("%s on by default: kube-apiserver %v, table %v", p, got, on)
		}
	}
}

// TestKubeletConfigDefaults compares the table with what the kubelet's
// v1beta1 SetDefaults gives an empty KubeletConfiguration.
func TestKubeletConfigDefaults(t *testing.T) {
	var c kubeletconfig.KubeletConfiguration
	kubeletv1beta1.SetDefaults_KubeletConfiguration(&c)
	fields := flatten(t, &c)
	for path, want := range node.KubeletConfigDefaults {
		if got := fields[path]; !sameValue(got, want, path, fields) {
			t.Errorf("KubeletConfiguration %s defaults to %q; the table says %q", path, got, want)
		}
	}
}

// TestKubeletEffectiveConfig loads KubeletConfiguration files with the
// kubelet's own codec (decoding, defaulting) and compares each judged
// field with the effective value kubeguard gives it: zero durations that
// the kubelet replaces by defaults included.
func TestKubeletEffectiveConfig(t *testing.T) {
	scheme, codecs, err := kubeletscheme.NewSchemeAndCodecs()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{
		"../../../internal/node/testdata/cases/kubeadm/root/var/lib/kubelet/config.yaml",
		"testdata/kubelet-explicit.yaml",
		"testdata/kubelet-empty.yaml",
	} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			internal, _, err := codecs.UniversalDecoder().Decode(data, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ext kubeletconfig.KubeletConfiguration
			if err := scheme.Convert(internal, &ext, nil); err != nil {
				t.Fatal(err)
			}
			upstream := flatten(t, &ext)
			n := node.ReadPaths(node.Host{}, []string{file})
			if len(n.Errors) > 0 || n.Kubelet == nil {
				t.Fatalf("kubeguard read %v, errors %v", n.Kubelet, n.Errors)
			}
			for flag, path := range node.KubeletFields() {
				got := n.Kubelet.Setting(flag).Value
				if want := upstream[path]; !sameValue(want, got, path, upstream) {
					t.Errorf("%s: the kubelet runs with %q; kubeguard says %q", path, want, got)
				}
			}
		})
	}
}

// TestEtcdDefaults compares the table with the defaults etcd registers.
func TestEtcdDefaults(t *testing.T) {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	embed.NewConfig().AddFlags(fs)
	for name, want := range node.Defaults[node.Etcd] {
		f := fs.Lookup(name)
		if f == nil {
			if name == "config-file" {
				continue // etcdmain's, not embed's
			}
			t.Errorf("etcd has no flag --%s", name)
			continue
		}
		if f.DefValue != want {
			t.Errorf("etcd --%s defaults to %q; the table says %q", name, f.DefValue, want)
		}
	}
}

// flatten renders a KubeletConfiguration's fields by dotted JSON path,
// scalars as kubeguard renders them and lists joined by commas.
func flatten(t *testing.T, c *kubeletconfig.KubeletConfiguration) map[string]string {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
		case []any:
			var parts []string
			for _, x := range v {
				parts = append(parts, fmt.Sprint(x))
			}
			out[prefix] = strings.Join(parts, ",")
		case nil:
		default:
			out[prefix] = fmt.Sprint(v)
		}
	}
	walk("", m)
	return out
}

// sameValue compares an upstream value with kubeguard's. A field the
// upstream JSON leaves out (omitempty) holds its type's zero value, which
// kubeguard writes as "", "false" or "0".
func sameValue(upstream, kubeguard, path string, fields map[string]string) bool {
	if _, present := fields[path]; !present {
		return kubeguard == "" || kubeguard == "false" || kubeguard == "0"
	}
	return upstream == kubeguard
}
