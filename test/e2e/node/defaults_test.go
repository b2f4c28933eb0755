// Package node holds kubeguard node to what the components really do: its
// table of defaults to the upstream defaulting code, and its verdicts to a
// running kube-apiserver and etcd.
package node

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	cliflag "k8s.io/component-base/cli/flag"
	kubeletconfig "k8s.io/kubelet/config/v1beta1"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	kubeletoptions "k8s.io/kubernetes/cmd/kubelet/app/options"
	kubeapiserveradmission "k8s.io/kubernetes/pkg/kubeapiserver/options"
	kubeletscheme "k8s.io/kubernetes/pkg/kubelet/apis/config/scheme"
	kubeletv1beta1 "k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1"
	schedulerlatest "k8s.io/kubernetes/pkg/scheduler/apis/config/latest"

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

// unverifiable lists the rows of the defaults table no upstream code
// registers where a test can read it, with the reason; docs/node.md lists
// the same rows. A row missing upstream and not listed here fails.
var unverifiable = map[string]map[string]string{
	node.Etcd: {
		"config-file": "etcdmain registers it in an unexported flag set (newConfig), and --help prints hand-written text that names no default for it",
	},
}

// flagSources give, for each component of the table, a lookup of the
// default its upstream code registers for a flag (after whatever
// completion the component applies before it runs), and whether the
// component has the flag.
var flagSources = map[string]func(t *testing.T) func(name string) (string, bool){
	node.APIServer:         apiServerFlags,
	node.ControllerManager: controllerManagerFlags,
	node.Scheduler:         schedulerFlags,
	node.Etcd:              etcdFlags,
	node.Kubelet:           kubeletFlags,
}

// TestFlagDefaults compares every row of the defaults table with the
// default the component's own options code registers for that flag, for
// the Kubernetes version this module pins.
func TestFlagDefaults(t *testing.T) {
	for component, rows := range node.Defaults {
		t.Run(component, func(t *testing.T) {
			source, ok := flagSources[component]
			if !ok {
				t.Fatalf("no upstream source for the defaults of %s", component)
			}
			lookup := source(t)
			for name, want := range rows {
				got, found := lookup(name)
				reason, listed := unverifiable[component][name]
				switch {
				case found && listed:
					t.Errorf("%s --%s is listed as unverifiable (%s), yet upstream registers it: compare it", component, name, reason)
				case !found && listed:
					t.Logf("%s --%s not compared: %s", component, name, reason)
				case !found:
					t.Errorf("%s has no flag --%s", component, name)
				case got != want:
					t.Errorf("%s --%s defaults to %q; the table says %q", component, name, got, want)
				}
			}
			for name := range unverifiable[component] {
				if _, ok := rows[name]; !ok {
					t.Errorf("%s --%s is listed as unverifiable but is not in the table", component, name)
				}
			}
		})
	}
}

// namedFlags looks flags up in every set of a NamedFlagSets.
func namedFlags(fss cliflag.NamedFlagSets, completed map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if c, ok := completed[name]; ok {
			return c, true
		}
		for _, fs := range fss.FlagSets {
			if f := fs.Lookup(name); f != nil {
				return flagDefault(f.DefValue), true
			}
		}
		return "", false
	}
}

// apiServerFlags reads kube-apiserver's registered flags, after the
// completion step that gives --authorization-mode its default.
func apiServerFlags(t *testing.T) func(string) (string, bool) {
	s := apiserveroptions.NewServerRunOptions()
	fss := s.Flags()
	// Complete is where an empty --authorization-mode becomes AlwaysAllow.
	if errs := s.Authorization.Complete(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return namedFlags(fss, map[string]string{"authorization-mode": strings.Join(s.Authorization.Modes, ",")})
}

// controllerManagerFlags reads kube-controller-manager's registered
// flags; they are bound to its defaulted component configuration, so the
// registered default is the one it runs with. The lists of controllers
// only shape the help text of --controllers.
func controllerManagerFlags(t *testing.T) func(string) (string, bool) {
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		t.Fatal(err)
	}
	return namedFlags(s.Flags(nil, nil, nil), nil)
}

// schedulerFlags reads kube-scheduler's registered flags. Its --profiling
// is a deprecated flag the scheduler applies only when given; without it
// (and without --config) the scheduler runs with its defaulted
// KubeSchedulerConfiguration, so that default must agree too.
func schedulerFlags(t *testing.T) func(string) (string, bool) {
	o := scheduleroptions.NewOptions()
	cfg, err := schedulerlatest.Default()
	if err != nil {
		t.Fatal(err)
	}
	lookup := namedFlags(*o.Flags, nil)
	if flag, _ := lookup("profiling"); flag != strconv.FormatBool(cfg.EnableProfiling) {
		t.Errorf("kube-scheduler --profiling defaults to %s, its configuration's enableProfiling to %v", flag, cfg.EnableProfiling)
	}
	return lookup
}

// etcdFlags reads the flags etcd's embed package registers.
func etcdFlags(*testing.T) func(string) (string, bool) {
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	embed.NewConfig().AddFlags(fs)
	return func(name string) (string, bool) {
		if f := fs.Lookup(name); f != nil {
			return f.DefValue, true
		}
		return "", false
	}
}

// kubeletFlags reads the kubelet's registered flags: those of its command
// line and those bound to the KubeletConfiguration it starts from without
// --config, which carries the legacy command-line defaults.
func kubeletFlags(t *testing.T) func(string) (string, bool) {
	s, err := kubeletoptions.NewKubeletServer()
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	s.AddFlags(fs)
	return func(name string) (string, bool) {
		if f := fs.Lookup(name); f != nil {
			return flagDefault(f.DefValue), true
		}
		return "", false
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
		// A field the JSON leaves out passes as a zero value below,
		// so the path must name a field of the type.
		if !hasField(reflect.TypeFor[kubeletconfig.KubeletConfiguration](), strings.Split(path, ".")) {
			t.Errorf("KubeletConfiguration has no field %s", path)
			continue
		}
		if got := fields[path]; !sameValue(got, want, path, fields) {
			t.Errorf("KubeletConfiguration %s defaults to %q; the table says %q", path, got, want)
		}
	}
}

// TestKubeletFlagFields holds the pairing of each kubelet flag with its
// KubeletConfiguration field to the kubelet's own flag set: setting the
// flag changes that field and no other, to the value the flag was given.
// The flags the kubelet ORs with their field instead
// (node.KubeletORedFlags) must change no field. Every field of the
// configuration defaults table is paired with a flag.
func TestKubeletFlagFields(t *testing.T) {
	scheme, _, err := kubeletscheme.NewSchemeAndCodecs()
	if err != nil {
		t.Fatal(err)
	}
	// fields renders the versioned configuration a kubelet's flags leave.
	fields := func(t *testing.T, s *kubeletoptions.KubeletServer) map[string]string {
		var ext kubeletconfig.KubeletConfiguration
		if err := scheme.Convert(&s.KubeletConfiguration, &ext, nil); err != nil {
			t.Fatal(err)
		}
		return flatten(t, &ext)
	}
	newServer := func(t *testing.T) (*kubeletoptions.KubeletServer, *pflag.FlagSet) {
		s, err := kubeletoptions.NewKubeletServer()
		if err != nil {
			t.Fatal(err)
		}
		fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
		fs.SetOutput(io.Discard) // each deprecated flag set says so
		s.AddFlags(fs)
		return s, fs
	}
	base, _ := newServer(t)
	before := fields(t, base)
	paired := map[string]bool{}
	ored := map[string]bool{}
	for _, f := range node.KubeletORedFlags() {
		ored[f] = true
	}
	for flagName, path := range node.KubeletFields() {
		paired[path] = true
		t.Run(flagName, func(t *testing.T) {
			s, fs := newServer(t)
			f := fs.Lookup(flagName)
			if f == nil {
				t.Fatalf("the kubelet has no flag --%s", flagName)
			}
			value := otherValue(f)
			if err := fs.Set(flagName, value); err != nil {
				t.Fatalf("--%s=%s: %v", flagName, value, err)
			}
			after := fields(t, s)
			var changed []string
			for k := range union(before, after) {
				if before[k] != after[k] {
					changed = append(changed, k)
				}
			}
			if ored[flagName] {
				// The kubelet keeps the flag apart and ORs it with
				// the field: it must change no field, and be one of
				// the command line's own flags.
				own := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
				(&kubeletoptions.KubeletFlags{}).AddFlags(own)
				if len(changed) != 0 || own.Lookup(flagName) == nil {
					t.Fatalf("--%s=%s changes %v; the table says the kubelet ORs it with %s", flagName, value, changed, path)
				}
				return
			}
			if len(changed) != 1 || changed[0] != path {
				t.Fatalf("--%s=%s changes %v; the table pairs it with %s", flagName, value, changed, path)
			}
			if after[path] != value {
				t.Errorf("--%s=%s sets %s to %q", flagName, value, path, after[path])
			}
		})
	}
	for path := range node.KubeletConfigDefaults {
		if !paired[path] {
			t.Errorf("KubeletConfiguration %s has a default but no flag paired with it", path)
		}
	}
}

// otherValue is a value for a flag that differs from its default, in the
// form the versioned configuration renders it.
func otherValue(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		if f.DefValue == "true" {
			return "false"
		}
		return "true"
	case "int", "int32", "int64", "float32", "float64":
		return "7"
	case "duration":
		return "7m0s"
	case "stringSlice", "strings":
		return "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384"
	}
	return "kubeguard-test"
}

// union returns the keys of both maps.
func union(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
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

// hasField says whether a JSON field path names a field of a struct
// type, through pointers and embedded structs.
func hasField(typ reflect.Type, path []string) bool {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if len(path) == 0 {
		return true
	}
	if typ.Kind() != reflect.Struct {
		return false
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			if hasField(f.Type, path) {
				return true
			}
			continue
		}
		if name == path[0] {
			return hasField(f.Type, path[1:])
		}
	}
	return false
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
