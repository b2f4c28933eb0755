package object

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
)

var treeSeeds = []string{
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web, 'tier': \"front\"}\n  annotations:\n    note: |\n      text\nspec:\n  hostNetwork: true\n  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: nginx\n    image: nginx:1.27\n    ports: [{containerPort: 80, hostPort: 8080, protocol: TCP}]\n    resources: {limits: {cpu: 500m, memory: 128Mi}}\n    livenessProbe: {httpGet: {path: /, port: http, host: example.com}}\n    readinessProbe: {tcpSocket: {port: 8080}}\n    securityContext: {privileged: false, allowPrivilegeEscalation: no, capabilities: {add: [NET_ADMIN], drop: [ALL]}}\n  volumes:\n  - name: v\n  - name: h\n    hostPath: {path: /var/log, type: Directory}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: ~\n  nodeSelector: {a: ~}\n  terminationGracePeriodSeconds: 0x1F\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: 1}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, name: b}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  priority: 99999999999\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  hostPID: \"true\"\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: {name: a}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  Containers: [{name: a}]\n  unknown: {x: [1, 2]}\n",
	"apiVersion: v1\nkind: Pod\nspec: &s\n  containers: [{name: a}]\nother: *s\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  <<: {hostIPC: true}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  ephemeralContainers: [{name: debug, image: busybox, targetContainerName: a}]\n  overhead: {cpu: 1}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: 2024-01-01T00:00:00Z\n  labels: {n: 1}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  activeDeadlineSeconds: -5\n  containers: [{name: a, env: [{name: X, value: \"1\"}, {name: Y, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  securityContext: {sysctls: [{name: kernel.msgmax, value: '65536'}], fsGroup: 0o20}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: !!str a}]\n",
	// Quantities and IntOrStrings: every way a scalar reaches their JSON
	// decoding (numbers are rewritten by the conversion: 1e3 becomes 1000,
	// 0x10 becomes 16, and the quantity's format follows the text).
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: 1e3, memory: 0x10, a: 1_000, b: 0o17, c: .5, d: -0, e: 1.0, f: 1e-7, g: 1e21, h: 9223372036854775808, i: 100Mi, j: '1.5Gi', k: \" 2 \", m: ~, nul: , p: 0, q: \"0\", r: 1E3, s: +5, t: 0.000000001, u: 1.5e-10, v: 3000m, w: 123456789012345678901234567890, x: -1, bin: 0b11}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: \"\\t3\"}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: \"\"}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: 12e}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: true}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  overhead: {cpu: 2001-12-14}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    resources:\n      limits: {cpu: 500m, memory: 128Mi, ephemeral-storage: 1G, nvidia.com/gpu: 1}\n      requests: {cpu: \"0.25\", memory: 64e6}\n      claims: [{name: c}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, resources: {limits: {cpu: [1]}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, resources: {limits: {cpu: {a: 1}}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, resources: {limits: ~, requests: {}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, resources: {limits: {cpu: \"<1>\", memory: \"1\\u2028\"}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    livenessProbe: {httpGet: {port: 8080}}\n    readinessProbe: {httpGet: {port: \"8080\"}}\n    startupProbe: {tcpSocket: {port: http}}\n  - name: b\n    livenessProbe: {httpGet: {port: 0x50}}\n    readinessProbe: {httpGet: {port: '\u00e9'}}\n  - name: d\n    livenessProbe: {httpGet: {port: ~}}\n    readinessProbe: {httpGet: {port: -1}}\n    startupProbe: {tcpSocket: {port: ''}}\n  - name: e\n    readinessProbe: {grpc: {port: 9}}\n    startupProbe: {tcpSocket: {port: 1e3}}\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, livenessProbe: {httpGet: {port: 1.5}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, livenessProbe: {httpGet: {port: 99999999999}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, livenessProbe: {httpGet: {port: yes}}}]\n",
	"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, livenessProbe: {httpGet: {port: [80]}}}]\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: \"2024-01-01T00:00:00+02:00\"\n  deletionTimestamp: ~\nspec:\n  containers: [{name: a}]\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: 5\n",
}

// treeTargets are what decodeTree is asked to decode in a document: what
// PodTemplate decodes, and whole objects (embedded TypeMeta, status).
func treeTargets() []func() any {
	return []func() any{
		func() any { return new(corev1.PodSpec) },
		func() any { return new(metav1.ObjectMeta) },
		func() any { return new(corev1.Pod) },
		func() any { return new(corev1.PodTemplateSpec) },
	}
}

// checkTreeDecode holds decodeTree to the JSON path on n for every target:
// when decodeTree takes a tree, the JSON path must take it too and give the
// same value.
func checkTreeDecode(t *testing.T, n *yaml.Node, src []byte) (taken int) {
	t.Helper()
	for _, target := range treeTargets() {
		fast := target()
		if !decodeTree(n, fast) {
			if !reflect.ValueOf(fast).Elem().IsZero() {
				t.Fatalf("decodeTree declined %T but changed it:\n%s", fast, src)
			}
			continue
		}
		taken++
		slow := target()
		if err := withJSON(n, func(b []byte) error { return kjson.UnmarshalCaseSensitivePreserveInts(b, slow) }); err != nil {
			t.Fatalf("decodeTree took into %T what the JSON path refuses (%v):\n%s", fast, err, src)
		}
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Fatalf("decodeTree into %T differs from the JSON path (-JSON +tree):\n%s\n%s", fast, diff, src)
		}
		// cmp compares Quantities with their Equal method, by value; the
		// format and cached text they are printed with must match too.
		if !reflect.DeepEqual(slow, fast) {
			t.Fatalf("decodeTree into %T differs from the JSON path in representation:\nJSON: %#v\ntree: %#v\n%s", fast, slow, fast, src)
		}
	}
	return taken
}

// candidates are the nodes of a document a pod template decoding may
// start at.
func candidates(root *yaml.Node) []*yaml.Node {
	out := []*yaml.Node{root}
	o := &Object{root: root}
	for _, p := range []Path{Path{}.Key("spec"), Path{}.Key("metadata"), templatePath, templatePath.Key("spec"), templatePath.Key("metadata"), jobTemplatePath.Key("spec")} {
		if n := o.Field(p); n != nil {
			out = append(out, n)
		}
	}
	return out
}

func FuzzTreeDecodeMatchesJSON(f *testing.F) {
	for _, s := range treeSeeds {
		f.Add([]byte(s))
	}
	for _, d := range corpusDocs(f, 20) {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
			return
		}
		for _, n := range candidates(doc.Content[0]) {
			checkTreeDecode(t, n, data)
		}
	})
}

// TestTreeDecodeSeeds runs the seeds and generated workloads, and checks
// that the usual pod templates take the tree path (otherwise it would only
// cost time).
func TestTreeDecodeSeeds(t *testing.T) {
	for i, s := range treeSeeds {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		for _, n := range candidates(doc.Content[0]) {
			checkTreeDecode(t, n, []byte(s))
		}
	}
	for i, d := range corpusDocs(t, 200) {
		var doc yaml.Node
		if err := yaml.Unmarshal(d, &doc); err != nil {
			t.Fatal(err)
		}
		o := &Object{root: doc.Content[0]}
		p, ok := o.TemplatePath()
		if !ok {
			continue
		}
		spec, meta := o.Field(p.Key("spec")), o.Field(p.Key("metadata"))
		if checkTreeDecode(t, spec, d) == 0 || meta != nil && checkTreeDecode(t, meta, d) == 0 {
			t.Fatalf("document %d: pod template not decoded from the tree:\n%s", i, d)
		}
	}
}
