// Package cluster runs kubeguard cluster against a real kube-apiserver
// seeded with insecure and secure objects. No controller-manager runs, so
// pods and their owners are created directly, linked by ownerReferences.
// Every request kubeguard makes goes through a recording proxy on
// 127.0.0.1, which is how the tests prove that Secrets are only ever listed
// as metadata, and that their data never crosses the wire.
package cluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/report"
	kgrun "github.com/kubeguard/kubeguard/internal/run"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/transport"
	"sigs.k8s.io/yaml"
)

var srv *apiserver.Server

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunTests(m, apiserver.Options{}, &srv))
}

// secretValue is the seeded Secret's value: it must never be requested,
// received or printed.
const secretValue = "e2e-s3cr3t-v4lue"

// gvrs maps the kinds the tests create to their resources.
var gvrs = map[string]schema.GroupVersionResource{
	"Namespace":                {Version: "v1", Resource: "namespaces"},
	"Pod":                      {Version: "v1", Resource: "pods"},
	"ServiceAccount":           {Version: "v1", Resource: "serviceaccounts"},
	"Secret":                   {Version: "v1", Resource: "secrets"},
	"Service":                  {Version: "v1", Resource: "services"},
	"ResourceQuota":            {Version: "v1", Resource: "resourcequotas"},
	"LimitRange":               {Version: "v1", Resource: "limitranges"},
	"Deployment":               {Group: "apps", Version: "v1", Resource: "deployments"},
	"ReplicaSet":               {Group: "apps", Version: "v1", Resource: "replicasets"},
	"CronJob":                  {Group: "batch", Version: "v1", Resource: "cronjobs"},
	"Job":                      {Group: "batch", Version: "v1", Resource: "jobs"},
	"NetworkPolicy":            {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	"ClusterRole":              {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding":       {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"CustomResourceDefinition": {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
}

func dyn(t *testing.T) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// create creates the objects of a YAML stream, in order, with NS replaced
// by ns; an object whose ownerReferences name OWNER:<name> gets that
// earlier object's UID. It returns the created objects by name.
func create(t *testing.T, ns, stream string) map[string]*unstructured.Unstructured {
	t.Helper()
	d := dyn(t)
	created := map[string]*unstructured.Unstructured{}
	if ns != "" {
		stream = strings.ReplaceAll(stream, "NS", ns)
	}
	for _, doc := range strings.Split(stream, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("fixture: %v\n%s", err, doc)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatalf("fixture: %v\n%s", err, doc)
		}
		refs := u.GetOwnerReferences()
		for i := range refs {
			if name, ok := strings.CutPrefix(string(refs[i].UID), "OWNER:"); ok {
				refs[i].UID = created[name].GetUID()
			}
		}
		u.SetOwnerReferences(refs)
		gvr, ok := gvrs[u.GetKind()]
		if !ok {
			t.Fatalf("fixture: no resource for kind %s", u.GetKind())
		}
		var ri dynamic.ResourceInterface = d.Resource(gvr)
		if u.GetNamespace() != "" {
			ri = d.Resource(gvr).Namespace(u.GetNamespace())
		}
		out, err := ri.Create(t.Context(), u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			t.Fatalf("create %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		created[u.GetName()] = out
	}
	return created
}

// seed holds an insecure namespace (a privileged Deployment with its
// ReplicaSet and 3 pods, a CronJob with its Job and pod, a bare pod on the
// host PID namespace, a ServiceAccount bound to cluster-admin that the
// Deployment runs as, a Secret) and a secure one enforcing restricted.
var seed = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: NS-apps}
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: NS-apps
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"` + secretValue + `"}}'
stringData:
  password: ` + secretValue + `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS-apps}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        securityContext: {privileged: true}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-6d4b
  namespace: NS-apps
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: "OWNER:web", controller: true}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: nginx:1.27
        securityContext: {privileged: true}
` + webPods + `
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: NS-apps}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - {name: backup, image: "registry.example/backup:1.0"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: backup-2901
  namespace: NS-apps
  ownerReferences:
  - {apiVersion: batch/v1, kind: CronJob, name: backup, uid: "OWNER:backup", controller: true}
spec:
  template:
    metadata:
      labels: {batch.kubernetes.io/controller-uid: fixed, batch.kubernetes.io/job-name: backup-2901, controller-uid: fixed, job-name: backup-2901}
    spec:
      restartPolicy: OnFailure
      containers:
      - {name: backup, image: "registry.example/backup:1.0"}
  selector: {matchLabels: {batch.kubernetes.io/controller-uid: fixed}}
  manualSelector: true
---
apiVersion: v1
kind: Pod
metadata:
  name: backup-2901-x
  namespace: NS-apps
  ownerReferences:
  - {apiVersion: batch/v1, kind: Job, name: backup-2901, uid: "OWNER:backup-2901", controller: true}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: backup, image: "registry.example/backup:1.0"}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: NS-apps}
spec:
  hostPID: true
  containers:
  - {name: sh, image: "busybox:latest"}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: NS-secure}
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: api
    image: registry.example/api:1.0
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: NS-web-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: web, namespace: NS-apps}
`

var webPods = func() string {
	var b strings.Builder
	for _, s := range []string{"a", "b", "c"} {
		fmt.Fprintf(&b, `
---
apiVersion: v1
kind: Pod
metadata:
  name: web-6d4b-%s
  namespace: NS-apps
  labels: {app: web}
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-6d4b, uid: "OWNER:web-6d4b", controller: true}
spec:
  serviceAccountName: web
  containers:
  - name: web
    image: nginx:1.27
    securityContext: {privileged: true}
`, s)
	}
	return b.String()
}()

// seeded creates the seed under a fresh prefix; namespaces are
// <prefix>-apps and <prefix>-secure.
func seeded(t *testing.T) string {
	t.Helper()
	prefix := strings.ToLower(strings.NewReplacer("/", "", "_", "").Replace(t.Name()))
	if len(prefix) > 20 {
		prefix = prefix[:20]
	}
	for _, ns := range []struct {
		name   string
		labels map[string]string
	}{{prefix + "-apps", nil}, {prefix + "-secure", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}} {
		create(t, "", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns.name))
		if ns.labels != nil {
			d := dyn(t)
			n, err := d.Resource(gvrs["Namespace"]).Get(t.Context(), ns.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n.SetLabels(ns.labels)
			if _, err := d.Resource(gvrs["Namespace"]).Update(t.Context(), n, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		create(t, "", fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: %s\n", ns.name))
	}
	create(t, prefix, seed)
	return prefix
}

// recorder is a reverse proxy to the API server that records every
// request and the bodies of the responses to Secret requests.
type recorder struct {
	URL    string
	CAData []byte

	mu       sync.Mutex
	requests []request
}

type request struct {
	method, path, query, accept string
	body                        []byte // Secret requests only
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	target, err := url.Parse(srv.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := transport.New(&transport.Config{TLS: transport.TLSConfig{CAData: srv.CAData}})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = rt
	proxy.ModifyResponse = func(resp *http.Response) error {
		q := resp.Request
		req := request{method: q.Method, path: q.URL.Path, query: q.URL.RawQuery, accept: q.Header.Get("Accept")}
		if strings.Contains(q.URL.Path, "/secrets") {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			req.body = b
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
		r.mu.Lock()
		r.requests = append(r.requests, req)
		r.mu.Unlock()
		return nil
	}
	// TLS, because kubeconfig credentials are only sent over TLS.
	s := httptest.NewTLSServer(proxy)
	t.Cleanup(s.Close)
	r.URL = s.URL
	r.CAData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	return r
}

func (r *recorder) all() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// kubeconfig writes a kubeconfig for the API server, as the admin, or as
// the impersonated user when as is set.
func kubeconfig(t *testing.T, server, as string) string {
	t.Helper()
	return kubeconfigCA(t, server, srv.CAData, as)
}

// kubeconfigCA is kubeconfig for a server with its own CA (the recorder).
func kubeconfigCA(t *testing.T, server string, ca []byte, as string) string {
	t.Helper()
	cluster := "    server: " + server + "\n" +
		"    certificate-authority-data: " + base64.StdEncoding.EncodeToString(ca) + "\n"
	user := "    token: " + srv.AdminToken + "\n"
	if as != "" {
		user += "    as: " + as + "\n"
	}
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n" + cluster +
		"users:\n- name: e2e\n  user:\n" + user +
		"contexts:\n- name: e2e\n  context: {cluster: e2e, user: e2e}\ncurrent-context: e2e\n"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if strings.Contains(stdout.String()+stderr.String(), secretValue) {
		t.Errorf("kubeguard %s printed the Secret's value", strings.Join(args, " "))
	}
	return code, stdout.String(), stderr.String()
}

type jsonReport struct {
	Findings []finding.Finding `json:"findings"`
	Objects  []report.Object   `json:"objects"`
}

func TestCluster(t *testing.T) {
	p := seeded(t)
	apps, secure := p+"-apps", p+"-secure"
	rec := newRecorder(t)
	code, out, stderr := run(t, "cluster", "--kubeconfig", kubeconfigCA(t, rec.URL, rec.CAData, ""), "-o", "json")
	if code != cli.ExitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitFindings, stderr)
	}
	if strings.Contains(stderr, "warning") {
		t.Errorf("as the admin, nothing should be left out:\n%s", stderr)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}

	t.Run("attribution", func(t *testing.T) {
		checked := map[string]bool{}
		for _, o := range r.Objects {
			checked[o.Ref.String()] = true
		}
		for ref, want := range map[string]bool{
			"Deployment/" + apps + "/web": true, "ReplicaSet/" + apps + "/web-6d4b": false,
			"Pod/" + apps + "/web-6d4b-a": false, "Pod/" + apps + "/debug": true,
			"CronJob/" + apps + "/backup": true, "Job/" + apps + "/backup-2901": false, "Pod/" + apps + "/backup-2901-x": false,
			"Pod/" + secure + "/api": true, "Namespace/" + apps: true,
		} {
			if checked[ref] != want {
				t.Errorf("%s checked = %v, want %v", ref, checked[ref], want)
			}
			if !want && slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.Object.String() == ref }) {
				t.Errorf("findings on %s, which its owner stands for", ref)
			}
		}
		want := map[string]string{
			"pss-privileged":                 "3 running pods",
			"rbac-privileged-token-workload": "3 running pods",
		}
		for _, f := range r.Findings {
			if f.Object.String() == "Deployment/"+apps+"/web" {
				if s, ok := want[f.CheckID]; ok && strings.Contains(f.Detail, s) {
					delete(want, f.CheckID)
				}
			}
		}
		if len(want) > 0 {
			t.Errorf("the Deployment lacks findings with its pod count: %v", want)
		}
		if !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool {
			return f.CheckID == "pss-hostNamespaces" && f.Object.String() == "Pod/"+apps+"/debug"
		}) {
			t.Error("no pss-hostNamespaces on the bare pod")
		}
		if slices.ContainsFunc(r.Findings, func(f finding.Finding) bool {
			return strings.HasPrefix(f.CheckID, "pss-") && f.Object.Namespace == secure
		}) {
			t.Error("Pod Security findings in the secure namespace")
		}
		if !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool {
			return f.CheckID == "rbac-cluster-admin-binding" && f.Object.Name == p+"-web-admin"
		}) {
			t.Error("no rbac-cluster-admin-binding on the seeded binding")
		}
	})

	t.Run("secrets metadata only", func(t *testing.T) {
		lists := 0
		for _, q := range rec.all() {
			if q.method != http.MethodGet {
				t.Errorf("%s %s: kubeguard cluster must only read", q.method, q.path)
			}
			if !strings.Contains(q.query, "limit=") {
				t.Errorf("GET %s?%s is not paginated", q.path, q.query)
			}
			if strings.Contains(q.path, "/secrets") {
				lists++
				if q.accept != cluster.MetadataAccept {
					t.Errorf("GET %s?%s with Accept %q: Secrets must be listed as PartialObjectMetadataList only", q.path, q.query, q.accept)
				}
				if !strings.Contains(string(q.body), `"kind":"PartialObjectMetadataList"`) {
					t.Errorf("GET %s: the server did not answer with metadata:\n%.300s", q.path, q.body)
				}
				// What the server sends is metadata: no data, no
				// stringData. Metadata holds every annotation, though, and
				// kubectl apply's last-applied-configuration copy of a
				// Secret holds its data: kubeguard drops that annotation
				// on receipt (it never reaches a check, a report or the
				// terminal, which run checks), but cannot keep the server
				// from sending it.
				var l struct {
					Items []map[string]json.RawMessage `json:"items"`
				}
				if err := json.Unmarshal(q.body, &l); err != nil {
					t.Fatalf("GET %s: %v", q.path, err)
				}
				for _, it := range l.Items {
					for k := range it {
						if k != "kind" && k != "apiVersion" && k != "metadata" {
							t.Errorf("GET %s: an item holds %q", q.path, k)
						}
					}
				}
				if strings.Contains(string(q.body), base64.StdEncoding.EncodeToString([]byte(secretValue))) {
					t.Errorf("GET %s: the response holds the Secret's data", q.path)
				}
				if strings.Contains(string(q.body), secretValue) {
					t.Logf("GET %s: the server sent the last-applied-configuration annotation, which holds the value; kubeguard dropped it", q.path)
				}
			}
		}
		if lists != 2 {
			t.Errorf("%d Secret lists, want 2", lists)
		}
	})

	t.Run("readiness", func(t *testing.T) {
		code, out, stderr := run(t, "cluster", "--kubeconfig", kubeconfig(t, srv.URL, ""), "--readiness", "-o", "json")
		if code != cli.ExitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var got struct {
			Namespaces []kgrun.NamespaceReadiness `json:"namespaces"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		byName := map[string]kgrun.NamespaceReadiness{}
		for _, n := range got.Namespaces {
			byName[n.Namespace] = n
		}
		a, s := byName[apps], byName[secure]
		if a.Pods != 5 || a.Level != "privileged" || len(a.Baseline) != 2 || len(a.Restricted) != 3 {
			t.Errorf("%s: %+v", apps, a)
		}
		if s.Pods != 1 || s.Level != "restricted" || s.Version != "latest" || s.Enforce != "restricted" {
			t.Errorf("%s: %+v", secure, s)
		}
		if k := byName["kube-system"]; k.Level != "restricted" || k.Pods != 0 {
			t.Errorf("kube-system: %+v", k)
		}
	})
}

// TestReadinessMatchesAdmission holds the readiness verdict to the API
// server's: a namespace judged ready for restricted admits its pods under
// enforce=restricted, and one judged not ready refuses some (server-side
// dry run of each running pod).
func TestReadinessMatchesAdmission(t *testing.T) {
	p := seeded(t)
	code, out, stderr := run(t, "cluster", "--kubeconfig", kubeconfig(t, srv.URL, ""), "--readiness", "-o", "json")
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var got struct {
		Namespaces []kgrun.NamespaceReadiness `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, n := range got.Namespaces {
		if !strings.HasPrefix(n.Namespace, p) {
			continue
		}
		pods, err := srv.Client.CoreV1().Pods(n.Namespace).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		target := srv.Namespace(t, "ready", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}).Name
		refused := 0
		for _, pod := range pods.Items {
			pod := pod.DeepCopy()
			pod.ObjectMeta = metav1.ObjectMeta{Name: pod.Name, Namespace: target, Labels: pod.Labels}
			pod.Spec.ServiceAccountName = ""
			pod.Spec.DeprecatedServiceAccount = ""
			_, err := srv.Client.CoreV1().Pods(target).Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if apierrors.IsForbidden(err) {
				refused++
			} else if err != nil {
				t.Fatalf("dry run %s: %v", pod.Name, err)
			}
		}
		if ready := n.Level == "restricted" && n.Version == "latest"; ready != (refused == 0) {
			t.Errorf("%s: kubeguard says %s/%s, the API server refuses %d of %d pods under enforce=restricted", n.Namespace, n.Level, n.Version, refused, len(pods.Items))
		}
	}
}

const crds = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: policyreports.wgpolicyk8s.io}
spec:
  group: wgpolicyk8s.io
  scope: Namespaced
  names: {plural: policyreports, singular: policyreport, kind: PolicyReport, listKind: PolicyReportList}
  versions:
  - name: v1alpha2
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterpolicyreports.wgpolicyk8s.io}
spec:
  group: wgpolicyk8s.io
  scope: Cluster
  names: {plural: clusterpolicyreports, singular: clusterpolicyreport, kind: ClusterPolicyReport, listKind: ClusterPolicyReportList}
  versions:
  - name: v1alpha2
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

var crdOnce sync.Once

// installCRDs installs minimal PolicyReport CRDs (the upstream ones have a
// full schema; the tests need only that the resources are served) and
// waits until both are.
func installCRDs(t *testing.T) {
	t.Helper()
	crdOnce.Do(func() {
		create(t, "", crds)
		d := dyn(t)
		deadline := time.Now().Add(60 * time.Second)
		for _, gvr := range []schema.GroupVersionResource{kgrun.PolicyReports, kgrun.ClusterPolicyReports} {
			for {
				_, err := d.Resource(gvr).List(t.Context(), metav1.ListOptions{Limit: 1})
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s not served: %v", gvr.Resource, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	})
}

func TestWriteReports(t *testing.T) {
	installCRDs(t)
	p := seeded(t)
	apps := p + "-apps"
	kc := kubeconfig(t, srv.URL, "")
	d := dyn(t)
	for i, want := range []string{"created", "updated"} {
		code, _, stderr := run(t, "cluster", "--kubeconfig", kc, "--write-reports", "-o", "json")
		if code != cli.ExitFindings {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr)
		}
		u, err := d.Resource(kgrun.PolicyReports).Namespace(apps).Get(t.Context(), report.PolicyReportName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s report: %v", want, err)
		}
		if i == 1 && u.GetGeneration() < 2 && u.GetResourceVersion() == "" {
			t.Errorf("report was not updated: %v", u.GetResourceVersion())
		}
		j, _ := u.MarshalJSON()
		var pr report.PolicyReport
		if err := json.Unmarshal(j, &pr); err != nil {
			t.Fatal(err)
		}
		if pr.Summary.Fail == 0 || !slices.ContainsFunc(pr.Results, func(r report.PolicyReportResult) bool {
			return r.Policy == "pss-privileged" && r.Resources[0].Kind == "Deployment" && r.Resources[0].Name == "web"
		}) {
			t.Errorf("%s report lacks pss-privileged on the Deployment: %+v", want, pr.Summary)
		}
		if strings.Contains(string(j), secretValue) {
			t.Error("the written report holds the Secret's value")
		}
		if _, err := d.Resource(kgrun.ClusterPolicyReports).Get(t.Context(), report.PolicyReportName, metav1.GetOptions{}); err != nil {
			t.Errorf("cluster report: %v", err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScannerDeployment applies deploy/scanner to the API server, shows the
// CronJob's pod is admitted under the restricted level its namespace
// enforces, and runs kubeguard cluster --write-reports as the scanner's
// ServiceAccount: its roles allow everything kubeguard reads and writes.
// With a role that lacks Secrets and Ingresses, the scan still runs and
// warns of what it left out.
func TestScannerDeployment(t *testing.T) {
	installCRDs(t)
	seeded(t)
	for _, f := range []string{"namespace.yaml", "rbac.yaml", "cronjob.yaml"} {
		create(t, "", readFile(t, filepath.Join("..", "..", "..", "deploy", "scanner", f)))
	}
	cj, err := srv.Client.BatchV1().CronJobs("kubeguard-scanner").Get(t.Context(), "kubeguard-scanner", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := cj.Spec.JobTemplate.Spec.Template
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "scanner", Namespace: "kubeguard-scanner", Labels: tmpl.Labels}, Spec: tmpl.Spec}
	if _, err := srv.Client.CoreV1().Pods("kubeguard-scanner").Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the scanner's pod under enforce=restricted: %v", err)
	}

	sa := "system:serviceaccount:kubeguard-scanner:kubeguard-scanner"
	code, out, stderr := run(t, "cluster", "--kubeconfig", kubeconfig(t, srv.URL, sa), "--write-reports", "-o", "json")
	if code == cli.ExitError || strings.Contains(stderr, "warning") {
		t.Errorf("as the scanner: exit %d\n%s", code, stderr)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range r.Findings {
		if f.Object.Name == "kubeguard-scanner" && f.CheckID == "rbac-secrets-read" && f.Suppressed == nil {
			t.Errorf("the scanner's own secrets rule is reported, not waived: %s", f.Reason)
		}
	}

	create(t, "", `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: kg-partial}
rules:
- apiGroups: ["", apps, batch, rbac.authorization.k8s.io, apiextensions.k8s.io]
  resources: [namespaces, pods, serviceaccounts, services, resourcequotas, limitranges, replicationcontrollers,
    deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs, roles, clusterroles, rolebindings,
    clusterrolebindings, customresourcedefinitions]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kg-partial}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kg-partial}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: kg-partial}
`)
	code, out, stderr = run(t, "cluster", "--kubeconfig", kubeconfig(t, srv.URL, "kg-partial"), "-o", "json")
	if code == cli.ExitError {
		t.Fatalf("partial: exit %d\n%s", code, stderr)
	}
	for _, w := range []string{"cannot list secrets (forbidden)", "cannot list networkpolicies.networking.k8s.io (forbidden)", "cannot list ingresses.networking.k8s.io (forbidden)"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("no warning %q:\n%s", w, stderr)
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.CheckID == "pss-privileged" }) {
		t.Errorf("partial results lack the pods' findings (%v)", err)
	}
}

// TestRBACLive compares kubeguard rbac can-i --cluster with the API
// server's own answer (SubjectAccessReview) for the seeded ServiceAccount.
func TestRBACLive(t *testing.T) {
	p := seeded(t)
	sa := p + "-apps:web"
	kc := kubeconfig(t, srv.URL, "")
	for _, tc := range []struct {
		args                      []string
		verb, resource, group, ns string
	}{
		{[]string{"get", "secrets", "-n", "kube-system"}, "get", "secrets", "", "kube-system"},
		{[]string{"create", "pods/exec", "-n", p + "-secure"}, "create", "pods", "", p + "-secure"},
	} {
		code, out, stderr := run(t, append([]string{"rbac", "can-i", "--kubeconfig", kc, "--as-sa", sa}, tc.args...)...)
		if code == cli.ExitError {
			t.Fatalf("can-i %v: exit %d\n%s", tc.args, code, stderr)
		}
		sar, err := srv.Client.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:               "system:serviceaccount:" + strings.Replace(sa, ":", ":", 1),
				Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + p + "-apps", "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: tc.verb, Resource: tc.resource, Group: tc.group, Namespace: tc.ns},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.HasPrefix(out, "yes"); got != sar.Status.Allowed {
			t.Errorf("can-i %v: kubeguard %v, API server %v\n%s", tc.args, got, sar.Status.Allowed, out)
		}
	}
	code, out, stderr := run(t, "rbac", "paths", "--kubeconfig", kc)
	if code != cli.ExitOK || !strings.Contains(out, "ServiceAccount "+p+"-apps/web") {
		t.Errorf("paths: exit %d\n%s%s", code, out, stderr)
	}
}
