package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// verdicts renders findings without their locations, which differ by
// design between a node's files and the API's objects.
func verdicts(fs []finding.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s/%s: %s", f.CheckID, f.Severity, f.Object.Kind, f.Object.Name, f.Reason))
	}
	slices.Sort(out)
	return out
}

// mirrorOf decodes a static pod manifest as the API would serve its mirror
// pod.
func mirrorOf(t *testing.T, path string) (ns, name string, cs []Container) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pod struct {
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			Containers []struct {
				Name, Image   string
				Command, Args []string
			}
		}
	}
	if err := yaml.Unmarshal(data, &pod); err != nil {
		t.Fatal(err)
	}
	for _, c := range pod.Spec.Containers {
		cs = append(cs, Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args})
	}
	return pod.Metadata.Namespace, pod.Metadata.Name, cs
}

// TestMirrorPodsJudgedAsManifests reads the static pod manifests of the
// fixture nodes once as files and once as the mirror pods the API serves
// for them: the verdicts are the same, and each remote finding points at
// the pod's container and argument that decided it.
func TestMirrorPodsJudgedAsManifests(t *testing.T) {
	for _, c := range []string{"insecure", "kubeadm"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join("testdata/cases", c, "root/etc/kubernetes/manifests")
			paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil || len(paths) == 0 {
				t.Fatalf("no manifests: %v", err)
			}
			local := ReadPaths(Host{}, paths)
			var comps []*CommandLine
			pods := map[string][]Container{}
			for _, p := range paths {
				ns, name, cs := mirrorOf(t, p)
				pods[name] = cs
				comps = append(comps, MirrorPod(ns, name, cs)...)
			}
			if len(comps) != len(local.Components) {
				t.Fatalf("%d command lines from mirror pods, %d from files", len(comps), len(local.Components))
			}
			// The manifests' own permissions are a node's files' matter:
			// the API serves no file.
			var fileIDs []string
			for _, c := range fileChecks() {
				fileIDs = append(fileIDs, c.ID)
			}
			want, _ := Evaluate(local, Checks(), Options{Now: now})
			want = slices.DeleteFunc(want, func(f finding.Finding) bool { return slices.Contains(fileIDs, f.CheckID) })
			remote := Remote(comps, nil)
			got, errs := Evaluate(remote, Checks(), Options{Now: now})
			if len(errs) > 0 {
				t.Errorf("remote input errors: %v", errs)
			}
			if d := cmp.Diff(verdicts(want), verdicts(got)); d != "" {
				t.Errorf("remote verdicts differ from the files' (-files +remote):\n%s", d)
			}
			argAt := regexp.MustCompile(`^spec\.containers\[(\d+)\]\.(command|args)\[(\d+)\]$`)
			for _, f := range got {
				if f.Location != (finding.Location{}) {
					t.Errorf("%s: remote finding has a file location %v", f.CheckID, f.Location)
				}
				if len(f.Containers) != 1 || !strings.HasPrefix(f.Path, "spec.containers[") {
					t.Errorf("%s: path %q, containers %v", f.CheckID, f.Path, f.Containers)
					continue
				}
				m := argAt.FindStringSubmatch(f.Path)
				if m == nil {
					continue // a default: the container to add the flag to
				}
				i, _ := strconv.Atoi(m[1])
				j, _ := strconv.Atoi(m[3])
				cs := pods[f.Object.Name]
				words := cs[i].Command
				if m[2] == "args" {
					words = cs[i].Args
				}
				if cs[i].Name != f.Containers[0] || !strings.HasPrefix(words[j], "-") {
					t.Errorf("%s: %s is %q in container %s, not a flag", f.CheckID, f.Path, words[j], cs[i].Name)
				}
			}
		})
	}
}

// insecureKubelet sets every judged KubeletConfiguration field to the
// value a check reports.
var insecureKubelet = map[string]any{
	"authentication": map[string]any{
		"anonymous": map[string]any{"enabled": true},
		"webhook":   map[string]any{"enabled": false},
		"x509":      map[string]any{"clientCAFile": ""},
	},
	"authorization":                  map[string]any{"mode": "AlwaysAllow"},
	"readOnlyPort":                   10255,
	"streamingConnectionIdleTimeout": "0s",
	"protectKernelDefaults":          false,
	"makeIPTablesUtilChains":         false,
	"rotateCertificates":             false,
	"serverTLSBootstrap":             false,
	"tlsCipherSuites":                []string{"TLS_RSA_WITH_RC4_128_SHA"},
	"tlsMinVersion":                  "VersionTLS10",
	"eventRecordQPS":                 0,
	"podPidsLimit":                   -1,
	"seccompDefault":                 false,
}

// TestConfigzJudgedAsFile judges the same KubeletConfiguration as a file
// and as a kubelet's /configz answer: the same verdicts, located at the
// configz field on the Node.
func TestConfigzJudgedAsFile(t *testing.T) {
	file := map[string]any{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
	for k, v := range insecureKubelet {
		file[k] = v
	}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	local := ReadPaths(Host{}, []string{p})
	want, _ := Evaluate(local, Checks(), Options{Now: now})
	answer, _ := json.Marshal(map[string]any{"kubeletconfig": insecureKubelet})
	k, err := ReadConfigz("node-1", answer)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := Evaluate(Remote(nil, k), Checks(), Options{Now: now})
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	strip := func(vs []string) []string {
		for i := range vs {
			vs[i] = strings.Replace(strings.Replace(vs[i], "KubeletConfiguration/kubelet", "K", 1), "Node/node-1", "K", 1)
		}
		return vs
	}
	// Every check of the kubelet but the streaming timeout (the kubelet
	// itself replaces a zero timeout, so it never serves one) reports.
	if len(want) < 12 {
		t.Fatalf("the file gives only %d findings: %v", len(want), verdicts(want))
	}
	// But seccompDefault: false in /configz does not rule out the
	// --seccomp-default the kubelet ORs with it, so it is not judged
	// through the API, and Unjudged says so.
	want = slices.DeleteFunc(want, func(f finding.Finding) bool { return f.CheckID == "kubelet-seccomp-default" })
	if u := Unjudged(Remote(nil, k)); len(u) != 1 || !strings.Contains(u[0], "kubeletconfig.seccompDefault is false") {
		t.Errorf("Unjudged = %q", u)
	}
	if d := cmp.Diff(strip(verdicts(want)), strip(verdicts(got))); d != "" {
		t.Errorf("configz verdicts differ from the file's (-file +configz):\n%s", d)
	}
	for _, f := range got {
		if f.Object != (finding.ObjectRef{APIVersion: "v1", Kind: "Node", Name: "node-1"}) || !strings.HasPrefix(f.Path, "kubeletconfig.") || f.Location.File != "" {
			t.Errorf("%s: object %v path %q location %v", f.CheckID, f.Object, f.Path, f.Location)
		}
	}
}

// TestConfigzSeccompDefault: the kubelet ORs --seccomp-default with
// seccompDefault outside the KubeletConfiguration /configz serves. A true
// field is judged on; a false (or omitted) one may run as true and is not
// judged, never reported as off.
func TestConfigzSeccompDefault(t *testing.T) {
	for _, tt := range []struct {
		answer   string
		unjudged bool
	}{
		{`{"kubeletconfig":{"seccompDefault":true}}`, false},
		{`{"kubeletconfig":{"seccompDefault":false}}`, true},
		{`{"kubeletconfig":{}}`, true},
	} {
		k, err := ReadConfigz("n", []byte(tt.answer))
		if err != nil {
			t.Fatal(err)
		}
		n := Remote(nil, k)
		fs, _ := Evaluate(n, Checks(), Options{Now: now})
		for _, f := range fs {
			if f.CheckID == "kubelet-seccomp-default" {
				t.Errorf("%s: reported %q", tt.answer, f.Reason)
			}
		}
		u := strings.Join(Unjudged(n), "\n")
		if got := strings.Contains(u, "--seccomp-default, which /configz does not show"); got != tt.unjudged {
			t.Errorf("%s: unjudged %v, want %v: %q", tt.answer, got, tt.unjudged, u)
		}
	}
}

// TestConfigzOmittedFields: a field the answer leaves out runs at its zero
// value (the kubelet encodes with omitempty after defaulting), not at the
// default a file would get.
func TestConfigzOmittedFields(t *testing.T) {
	k, err := ReadConfigz("n", []byte(`{"kubeletconfig":{"authentication":{"anonymous":{"enabled":false},"webhook":{"enabled":true}},"authorization":{"mode":"Webhook"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{
		"read-only-port": "0", "rotate-certificates": "false", "tls-min-version": "",
		"anonymous-auth": "false", "authorization-mode": "Webhook", "pod-max-pids": "0",
	} {
		if s := k.Setting(flag); s.Value != want || s.Origin != FromRunning {
			t.Errorf("%s: %q from %s, want %q from the running configuration", flag, s.Value, s.Origin, want)
		}
	}
}

// TestReadConfigzErrors: what is not a configz answer is an error naming
// the field, never a pass, and never quoting the answer's values.
func TestReadConfigzErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not JSON", `<html>`, "configz answer"},
		{"empty", ``, "configz answer"},
		{"array", `[]`, "configz answer"},
		{"no kubeletconfig", `{"componentconfig":{}}`, "holds no kubeletconfig"},
		{"null kubeletconfig", `{"kubeletconfig":null}`, "not an object"},
		{"kubeletconfig a string", `{"kubeletconfig":"x"}`, "not an object"},
		{"trailing data", `{"kubeletconfig":{}} {}`, "data after"},
		{"another kind", `{"kubeletconfig":{"kind":"KubeProxyConfiguration"}}`, "not a KubeletConfiguration"},
		{"another version", `{"kubeletconfig":{"apiVersion":"kubelet.config.k8s.io/v9","kind":"KubeletConfiguration"}}`, "not of apiVersion"},
		{"object for a value", `{"kubeletconfig":{"readOnlyPort":{"v":"SECRET-VALUE"}}}`, "kubeletconfig.readOnlyPort: not a value"},
		{"scalar for an object", `{"kubeletconfig":{"authentication":"SECRET-VALUE"}}`, "authentication is not an object"},
		{"list of numbers", `{"kubeletconfig":{"tlsCipherSuites":[1]}}`, "not a list of strings"},
		{"bad duration", `{"kubeletconfig":{"streamingConnectionIdleTimeout":"SECRET-VALUE"}}`, "not a duration"},
		{"too deep", `{"kubeletconfig":` + deep + `}`, "nested deeper"},
		{"too large", `{"kubeletconfig":{"x":"` + strings.Repeat("a", MaxConfigzSize) + `"}}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadConfigz("n", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET-VALUE") {
				t.Errorf("the error quotes the answer: %v", err)
			}
		})
	}
}

// TestRemoteNeverReadsLocalFiles: the files a remote node's flags name are
// on that node. A file at the same path where kubeguard runs must not be
// judged in its place; Unjudged says what is left unjudged.
func TestRemoteNeverReadsLocalFiles(t *testing.T) {
	dir := t.TempDir()
	authz := filepath.Join(dir, "authz.yaml")
	os.WriteFile(authz, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n- type: AlwaysAllow\n  name: a\n"), 0o600)
	enc := filepath.Join(dir, "enc.yaml")
	os.WriteFile(enc, []byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n"), 0o600)
	ca := filepath.Join(dir, "ca.crt")
	os.WriteFile(ca, []byte("same"), 0o600)
	ca2 := filepath.Join(dir, "ca2.crt")
	os.WriteFile(ca2, []byte("same"), 0o600)
	comps := MirrorPod("kube-system", "kube-apiserver-n1", []Container{{Name: "kube-apiserver", Command: []string{"kube-apiserver",
		"--authorization-config=" + authz, "--encryption-provider-config=" + enc, "--client-ca-file=" + ca,
		"--audit-policy-file=/nonexistent/policy.yaml", "--audit-log-path=/var/log/audit.log", "--service-account-issuer=https://k"}}})
	comps = append(comps, MirrorPod("kube-system", "etcd-n1", []Container{{Name: "etcd", Command: []string{"etcd", "--trusted-ca-file=" + ca2}}})...)
	n := Remote(comps, nil)
	fs, errs := Evaluate(n, Checks(), Options{Now: now})
	if len(errs) > 0 {
		t.Errorf("errors about files on the node: %v", errs)
	}
	for _, f := range fs {
		switch f.CheckID {
		case "apiserver-authorization-always-allow", "apiserver-authorization-node", "apiserver-authorization-rbac",
			"encryption-secrets-plaintext", "etcd-unique-ca", "apiserver-audit-log":
			t.Errorf("%s judged from a local file: %s", f.CheckID, f.Reason)
		}
	}
	got := strings.Join(Unjudged(n), "\n")
	for _, flag := range []string{"--authorization-config=", "--encryption-provider-config=", "--audit-policy-file="} {
		if !strings.Contains(got, flag) {
			t.Errorf("Unjudged does not name %s:\n%s", flag, got)
		}
	}
	if Unjudged(ReadPaths(Host{}, nil)) != nil {
		t.Error("a node read from files has nothing unjudged")
	}
}

// FuzzReadConfigz decodes any answer as a kubelet's /configz: no panic or
// hang; an answer accepted is judged, and an error never quotes a value.
func FuzzReadConfigz(f *testing.F) {
	seed, _ := json.Marshal(map[string]any{"kubeletconfig": insecureKubelet})
	f.Add(seed)
	f.Add([]byte(`{"kubeletconfig":{}}`))
	f.Add([]byte(`{"kubeletconfig":{"authentication":{"anonymous":null}}}`))
	f.Add([]byte(`{"kubeletconfig":{"tlsCipherSuites":["a",1]}}`))
	f.Add([]byte(`{"kubeletconfig":{"streamingConnectionIdleTimeout":"1e400h"}}`))
	f.Add([]byte(`{"kubeletconfig":{"a":"\"[{"}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ReadConfigz("n", data)
		if err != nil {
			for _, word := range bytes.FieldsFunc(data, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) {
				if len(word) >= 24 && strings.Contains(err.Error(), string(word)) && !slices.ContainsFunc(kubeletConfigPaths(), func(p string) bool { return strings.Contains(p, string(word)) }) {
					t.Fatalf("the error quotes %q: %v", word, err)
				}
			}
			return
		}
		Evaluate(Remote(nil, k), Checks(), Options{Now: now})
	})
}

// TestMirrorPodContainers: a component in a pod's second container, given
// by args only, is found, and its findings name that container and its
// argument; the first container is not judged.
func TestMirrorPodContainers(t *testing.T) {
	comps := MirrorPod("kube-system", "sched-n1", []Container{
		{Name: "log-shipper", Image: "busybox", Command: []string{"sh", "-c", "tail -F /var/log/x"}},
		{Name: "kube-scheduler", Image: "registry.k8s.io/kube-scheduler:v1.36.3", Args: []string{"--v=2", "--profiling=true", "--bind-address=127.0.0.1"}},
	})
	if len(comps) != 1 || comps[0].Component != Scheduler || comps[0].Version != "v1.36.3" {
		t.Fatalf("command lines %+v", comps)
	}
	fs, _ := Evaluate(Remote(comps, nil), Checks(), Options{Now: now})
	if len(fs) != 1 || fs[0].CheckID != "scheduler-profiling" || fs[0].Path != "spec.containers[1].args[1]" || !slices.Equal(fs[0].Containers, []string{"kube-scheduler"}) {
		t.Errorf("findings %+v", fs)
	}
}
