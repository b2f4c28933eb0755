package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchedulerProfilingDetail checks what a scheduler-profiling finding
// says when --config decides: the file's field or its default, and that a
// --profiling given beside --config is ignored.
func TestSchedulerProfilingDetail(t *testing.T) {
	n := Read(Host{Root: "testdata/cases/scheduler-config/root"}, DefaultLayout)
	var cs []Check
	for _, c := range Checks() {
		if c.ID == "scheduler-profiling" {
			cs = append(cs, c)
		}
	}
	fs, _ := Evaluate(n, cs, Options{Now: now})
	got := map[string]string{}
	for _, f := range fs {
		got[f.Object.Name] = f.Detail
	}
	tests := []struct {
		pod  string
		want []string // substrings of the detail; nil: no finding
	}{
		{"flag-only", nil},
		{"flag-on-field-on", []string{"enableProfiling: true (configuration file /etc/kubernetes/scheduler/on.yaml:3:1)", "--profiling=false at /etc/kubernetes/manifests/flag-on-field-on.yaml:11:7 is ignored when --config is given"}},
		{"field-off", nil},
		{"field-off-flag-on", nil},
		{"field-absent", []string{"enableProfiling is not set in the KubeSchedulerConfiguration /etc/kubernetes/scheduler/absent.yaml (--config at /etc/kubernetes/manifests/field-absent.yaml:11:7): its default is true"}},
		{"field-absent-flag-off", []string{"its default is true", "--profiling=false at /etc/kubernetes/manifests/field-absent-flag-off.yaml:11:7 is ignored when --config is given"}},
		{"field-yaml11-off", nil},
		{"field-null", []string{"enableProfiling is null"}},
		{"config-missing", nil},
		{"config-unknown-field", nil},
	}
	for _, tt := range tests {
		d, ok := got[tt.pod]
		if ok != (tt.want != nil) {
			t.Errorf("%s: finding %v, want %v (%s)", tt.pod, ok, tt.want != nil, d)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: detail %q lacks %q", tt.pod, d, w)
			}
		}
		if ok && !strings.Contains(tt.pod, "flag-off") && !strings.Contains(tt.pod, "field-on") && strings.Contains(d, "ignored") {
			t.Errorf("%s: detail names an ignored flag none gives: %q", tt.pod, d)
		}
	}
}

// TestSchedulerConfigKubeconfig: with --config the scheduler connects
// with the file's clientConnection.kubeconfig and ignores --kubeconfig, so
// that is the kubeconfig whose permissions are judged.
func TestSchedulerConfigKubeconfig(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n"
	write("etc/k/used.conf", kc)
	write("etc/k/ignored.conf", kc)
	write("etc/k/sched.yaml", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection:\n  kubeconfig: /etc/k/used.conf\n")
	write("etc/k/manifests/s.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\nspec:\n  containers:\n  - name: kube-scheduler\n    command: [kube-scheduler, --kubeconfig=/etc/k/ignored.conf, --config=/etc/k/sched.yaml]\n")
	n := Read(Host{Root: root}, Layout{ManifestDirs: []string{"/etc/k/manifests"}})
	if len(n.Errors) > 0 {
		t.Fatalf("errors: %v", n.Errors)
	}
	roles := map[string]Role{}
	for _, f := range n.Files {
		roles[f.Display] = f.Role
	}
	if roles["/etc/k/used.conf"] != RoleKubeconfig || roles["/etc/k/sched.yaml"] != RoleSchedulerConfig {
		t.Errorf("files read: %v", roles)
	}
	if _, ok := roles["/etc/k/ignored.conf"]; ok {
		t.Errorf("the ignored --kubeconfig was read: %v", roles)
	}
}

// TestRemoteSchedulerConfig: through the API the file --config names is
// on the node. The ignored --profiling is not judged, and Unjudged says
// the setting is in the file.
func TestRemoteSchedulerConfig(t *testing.T) {
	comps := MirrorPod("kube-system", "kube-scheduler-n1", []Container{{Name: "kube-scheduler", Command: []string{"kube-scheduler",
		"--profiling=true", "--config=/etc/kubernetes/scheduler.yaml"}}})
	comps = append(comps, MirrorPod("kube-system", "kube-scheduler-n2", []Container{{Name: "kube-scheduler", Command: []string{"kube-scheduler",
		"--profiling=true"}}})...)
	n := Remote(comps, nil)
	fs, errs := Evaluate(n, Checks(), Options{Now: now})
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	var judged []string
	for _, f := range fs {
		if f.CheckID == "scheduler-profiling" {
			judged = append(judged, f.Object.Name)
		}
	}
	if len(judged) != 1 || judged[0] != "kube-scheduler-n2" {
		t.Errorf("scheduler-profiling judged %v, want only kube-scheduler-n2 (n1's --profiling is ignored)", judged)
	}
	got := strings.Join(Unjudged(n), "\n")
	if !strings.Contains(got, "--config=/etc/kubernetes/scheduler.yaml") || !strings.Contains(got, "enableProfiling") || strings.Contains(got, "kube-scheduler-n2") {
		t.Errorf("Unjudged:\n%s", got)
	}
}

// FuzzSchedulerConfig reads any file as the KubeSchedulerConfiguration a
// scheduler's --config names: no panic or hang, and the file is either
// read (and judged) or an input error at --config, never both or neither.
func FuzzSchedulerConfig(f *testing.F) {
	dir := "testdata/cases/scheduler-config/root/etc/kubernetes/scheduler"
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nenableProfiling: &a [*a]\n"))
	f.Add([]byte(`{"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration","enableProfiling":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "m"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "s.yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: s\nspec:\n  containers:\n  - name: kube-scheduler\n    command: [kube-scheduler, --profiling=false, --config=/s.yaml]\n"
		if err := os.WriteFile(filepath.Join(root, "m", "s.yaml"), []byte(pod), 0o600); err != nil {
			t.Fatal(err)
		}
		n := Read(Host{Root: root}, Layout{ManifestDirs: []string{"/m"}})
		_, errs := Evaluate(n, Checks(), Options{Now: now})
		refused := false
		for _, e := range errs {
			refused = refused || strings.Contains(e.Message, "the scheduler's --config /s.yaml")
		}
		if _, read := n.SchedulerConfigs[filepath.Join(root, "s.yaml")]; read == refused {
			t.Errorf("read %v, refused %v: %v", read, refused, errs)
		}
	})
}
