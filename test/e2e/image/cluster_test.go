package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/cli"
	"github.com/kubeguard/kubeguard/internal/report"
	kgrun "github.com/kubeguard/kubeguard/internal/run"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// policyReportCRDs are minimal wgpolicyk8s.io CRDs: the scanner needs
// only that the resources are served.
const policyReportCRDs = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: policyreports.wgpolicyk8s.io}
spec:
  group: wgpolicyk8s.io
  scope: Namespaced
  names: {plural: policyreports, singular: policyreport, kind: PolicyReport, listKind: PolicyReportList}
  versions:
  - {name: v1alpha2, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterpolicyreports.wgpolicyk8s.io}
spec:
  group: wgpolicyk8s.io
  scope: Cluster
  names: {plural: clusterpolicyreports, singular: clusterpolicyreport, kind: ClusterPolicyReport, listKind: ClusterPolicyReportList}
  versions:
  - {name: v1alpha2, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
`

// live is the kube-apiserver the package's tests share, started by the
// first that needs it and stopped by TestMain.
var live struct {
	once sync.Once
	srv  *apiserver.Server
	err  error
}

func server(t *testing.T) *apiserver.Server {
	t.Helper()
	live.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a cold build included
		defer cancel()
		live.srv, live.err = apiserver.Start(ctx, apiserver.Options{Log: os.Stderr})
	})
	if live.err != nil {
		t.Fatalf("start kube-apiserver: %v", live.err)
	}
	return live.srv
}

// stopServer stops the shared server, keeping its logs when tests failed.
func stopServer(failed bool) {
	if live.srv == nil {
		return
	}
	if failed {
		live.srv.KeepLogs()
		fmt.Fprintf(os.Stderr, "e2e: tests failed; server logs kept in %s\n%s", live.srv.LogDir, live.srv.LogTails(30))
	}
	live.srv.Stop()
}

// imageFile reads an archive's one image: its config, and the entrypoint's
// file from its layer (TestImage checks that it is all the layer holds).
func imageFile(t *testing.T, a *archive) (cfg imageConfig, entry string, binary []byte, mode os.FileMode) {
	t.Helper()
	if len(a.manifest) != 1 || len(a.manifest[0].Layers) != 1 {
		t.Fatalf("archive manifest %+v, want one image of one layer", a.manifest)
	}
	if err := json.Unmarshal(a.files[a.manifest[0].Config], &cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	if len(cfg.Config.Entrypoint) != 1 {
		t.Fatalf("entrypoint %q", cfg.Config.Entrypoint)
	}
	entry = cfg.Config.Entrypoint[0]
	zr, err := gzip.NewReader(bytes.NewReader(a.files[a.manifest[0].Layers[0]]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if "/"+h.Name == entry {
			if binary, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
			mode = os.FileMode(h.Mode).Perm()
		}
	}
	if binary == nil {
		t.Fatalf("layer lacks the entrypoint %s", entry)
	}
	return cfg, entry, binary, mode
}

// apply creates the objects of a YAML stream.
func apply(t *testing.T, d dynamic.Interface, mapper meta.RESTMapper, stream string) {
	t.Helper()
	for _, doc := range strings.Split(stream, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("apply %s: %v", gvk, err)
		}
		var ri dynamic.ResourceInterface = d.Resource(m.Resource)
		if ns := u.GetNamespace(); ns != "" {
			ri = d.Resource(m.Resource).Namespace(ns)
		}
		if _, err := ri.Create(t.Context(), u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s %s: %v", gvk.Kind, u.GetName(), err)
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImageInCluster runs the image as deploy/scanner runs it, against a
// real kube-apiserver: the CronJob's arguments and environment, the
// ServiceAccount's token, CA and namespace where the kubelet mounts them,
// the in-cluster variables, the image's user, in a root filesystem of the
// image's one file. client-go trusts the ServiceAccount's CA alone, so the
// image needs no CA bundle; the scan reads with deploy/scanner's roles and
// writes its reports. A kubeconfig that names no CA is refused for want of
// one, and works once SSL_CERT_FILE names a bundle, as deploy/README.md
// says.
func TestImageInCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chrooting into the image's root filesystem needs root (CI runs as root)")
	}
	cfg, entry, binary, mode := imageFile(t, readArchive(t, archivePath(t)))
	rootfs := newRootfs(t, entry, binary, mode)

	ctx := t.Context()
	srv := server(t)
	d, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}

	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(srv.Client.Discovery()))
	apply(t, d, mapper, policyReportCRDs)
	scanner := filepath.Join(root, "deploy", "scanner")
	for _, f := range []string{"namespace.yaml", "rbac.yaml"} {
		data, err := os.ReadFile(filepath.Join(scanner, f))
		if err != nil {
			t.Fatal(err)
		}
		apply(t, d, mapper, string(data))
	}
	for _, gvr := range []schema.GroupVersionResource{kgrun.PolicyReports, kgrun.ClusterPolicyReports} {
		deadline := time.Now().Add(time.Minute)
		for {
			_, err := d.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not served: %v", gvr.Resource, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// A pod with no security context, for the scan to judge.
	apps := srv.Namespace(t, "apps", nil)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: apps.Name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
	if _, err := srv.Client.CoreV1().Pods(apps.Name).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The CronJob's container, as the kubelet would start it.
	data, err := os.ReadFile(filepath.Join(scanner, "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cj batchv1.CronJob
	if err := yaml.Unmarshal(data, &cj); err != nil {
		t.Fatal(err)
	}
	podSpec := cj.Spec.JobTemplate.Spec.Template.Spec
	c := podSpec.Containers[0]
	sa := podSpec.ServiceAccountName
	tok, err := srv.Client.CoreV1().ServiceAccounts(cj.Namespace).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", cj.Namespace, sa, err)
	}
	writeFiles(t, filepath.Join(rootfs, "var/run/secrets/kubernetes.io/serviceaccount"), map[string]string{
		"token": tok.Status.Token, "ca.crt": string(srv.CAData), "namespace": cj.Namespace,
	})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	stdout, stderr, code := runIn(t, rootfs, entry, cfg.Config.User, env, "", c.Args...)
	if code == cli.ExitError || strings.Contains(stderr, "warning") || strings.Contains(stderr, "cannot") {
		t.Fatalf("kubeguard %q in the image: exit %d\n%s\n%.2000s", c.Args, code, stderr, stdout)
	}
	if strings.Contains(stdout+stderr, tok.Status.Token) {
		t.Error("the ServiceAccount's token reached kubeguard's output")
	}
	got, err := d.Resource(kgrun.PolicyReports).Namespace(apps.Name).Get(ctx, report.PolicyReportName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the scanner wrote no report for %s: %v", apps.Name, err)
	}
	j, _ := got.MarshalJSON()
	if !strings.Contains(string(j), `"pss-runAsNonRoot"`) {
		t.Errorf("the report for %s lacks pss-runAsNonRoot on the pod:\n%.2000s", apps.Name, j)
	}

	// Outside a cluster, with a kubeconfig that names no CA: the image
	// has no bundle to trust the server with, until SSL_CERT_FILE names one.
	kubeconfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster: {server: " + srv.URL + "}\n" +
		"users:\n- name: e2e\n  user: {token: " + srv.AdminToken + "}\n" +
		"contexts:\n- name: e2e\n  context: {cluster: e2e, user: e2e}\ncurrent-context: e2e\n"
	writeFiles(t, filepath.Join(rootfs, "etc", "kubeguard"), map[string]string{"kubeconfig": kubeconfig, "ca.crt": string(srv.CAData)})
	args := []string{"cluster", "--kubeconfig", "/etc/kubeguard/kubeconfig", "-o", "json"}
	if _, stderr, code := runIn(t, rootfs, entry, cfg.Config.User, nil, "", args...); code != cli.ExitError || !strings.Contains(stderr, "certificate") {
		t.Errorf("a kubeconfig without CA: exit %d, want 2 and a certificate error:\n%s", code, stderr)
	}
	if stdout, stderr, code := runIn(t, rootfs, entry, cfg.Config.User, []string{"SSL_CERT_FILE=/etc/kubeguard/ca.crt"}, "", args...); code == cli.ExitError || !strings.Contains(stdout, `"pss-runAsNonRoot"`) {
		t.Errorf("with SSL_CERT_FILE: exit %d\n%s", code, stderr)
	}
}

// TestImageWebhook runs the image's binary as deploy/deployment.yaml runs
// the webhook, against a real kube-apiserver: chrooted into a root
// filesystem of its one file as the image's user, with the Deployment's
// arguments and environment (but --addr, on a free loopback port), its
// serving certificate at /tls (mode 0644, the Secret volume's default),
// the ConfigMap's configuration at /etc/kubeguard, and a token of its
// ServiceAccount with the CA where the projected volume puts them. It
// becomes ready (it has read the namespaces through the API server,
// trusting the ServiceAccount's CA alone) and denies a pod its namespace's
// Pod Security level forbids.
func TestImageWebhook(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chrooting into the image's root filesystem needs root (CI runs as root)")
	}
	cfg, entry, binary, mode := imageFile(t, readArchive(t, archivePath(t)))
	rootfs := newRootfs(t, entry, binary, mode)

	ctx := t.Context()
	srv := server(t)
	d, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(srv.Client.Discovery()))
	deploy := filepath.Join(root, "deploy")
	for _, f := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml"} {
		data, err := os.ReadFile(filepath.Join(deploy, f))
		if err != nil {
			t.Fatal(err)
		}
		apply(t, d, mapper, string(data))
	}
	restricted := srv.Namespace(t, "restricted", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})

	// The Deployment's container and what the kubelet would mount for it.
	data, err := os.ReadFile(filepath.Join(deploy, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	if err := yaml.Unmarshal(data, &dep); err != nil {
		t.Fatal(err)
	}
	spec := dep.Spec.Template.Spec
	c := spec.Containers[0]
	data, err = os.ReadFile(filepath.Join(deploy, "configmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal(data, &cm); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, filepath.Join(rootfs, "etc", "kubeguard"), cm.Data)
	tok, err := srv.Client.CoreV1().ServiceAccounts(dep.Namespace).CreateToken(ctx, spec.ServiceAccountName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for %s/%s: %v", dep.Namespace, spec.ServiceAccountName, err)
	}
	writeFiles(t, filepath.Join(rootfs, "var/run/secrets/kubernetes.io/serviceaccount"), map[string]string{
		"token": tok.Status.Token, "ca.crt": string(srv.CAData), "namespace": dep.Namespace,
	})
	// The serving certificate, made by the binary itself (run here as
	// root, outside the chroot), readable as the Secret volume makes it.
	tlsDir := filepath.Join(rootfs, "tls")
	if out, err := exec.Command(filepath.Join(rootfs, entry), "webhook", "certs", "--dir", tlsDir, "--name", "127.0.0.1").CombinedOutput(); err != nil {
		t.Fatalf("webhook certs: %v\n%s", err, out)
	}
	for _, f := range []string{"tls.crt", "tls.key"} {
		if err := os.Chmod(filepath.Join(tlsDir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := slices.Clone(c.Args)
	i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, "--addr=") })
	if i < 0 {
		t.Fatalf("deployment.yaml's args %q have no --addr=", args)
	}
	args[i] = "--addr=" + addr
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port()}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	var uid, gid uint32
	if _, err := fmt.Sscanf(cfg.Config.User, "%d:%d", &uid, &gid); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := &exec.Cmd{Path: entry, Args: append([]string{entry}, args...), Dir: "/", Env: env, Stdout: &logs, Stderr: &logs,
		SysProcAttr: &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("webhook's output:\n%s", logs.String())
		}
	}()

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("webhook certs wrote no CA")
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("https://" + addr + "/readyz")
		last := fmt.Sprint(err)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			last = resp.Status
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the webhook exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready within 30s: %s", last)
		}
		time.Sleep(200 * time.Millisecond)
	}

	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: restricted.Name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       "e2e-image",
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Name:      pod.Name,
			Namespace: restricted.Name,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Post("https://"+addr+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Response == nil {
		t.Fatalf("answer: %v (status %d)", err, resp.StatusCode)
	}
	if answer.Response.UID != "e2e-image" || answer.Response.Allowed {
		t.Errorf("a pod without a security context in a restricted namespace: %+v, want denied", answer.Response)
	}
}
