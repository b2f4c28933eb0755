package podsecurity

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/run"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/pod-security-admission/api"
)

// TestFixedObjectsAdmitted holds kubeguard's fixes to the real API server:
// for each input (the upstream restricted fail fixtures of the newest
// version, the real-world corpus, the examples), every fix a scan writes
// (all but the advice, checktest.AdviceOnly) is applied, and every object
// of the fixed input is created, as a server-side dry run, in a namespace
// that enforces restricted: the server must accept each, by its own
// validation and by its Pod Security admission. A workload's pod template
// is dry-run as a Pod as well, since Pod Security enforces on Pods.
// ServiceAccounts are created for real first: the ServiceAccount admission
// plugin refuses a pod whose ServiceAccount does not exist.
func TestFixedObjectsAdmitted(t *testing.T) {
	all, err := checks.All()
	if err != nil {
		t.Fatal(err)
	}
	cs := run.Checks(all, run.FrontScan)
	restricted := check.Options{PodSecurity: &api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}}
	mod, err := apiserver.ModuleDir(t.Context(), "k8s.io/pod-security-admission")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(mod, "test", "testdata", "restricted")
	versions := fixtureVersions(t, root)
	inputs, _ := filepath.Glob(filepath.Join(root, versions[len(versions)-1], "fail", "*.yaml"))
	corpus := filepath.Join("..", "..", "..", "internal", "cli", "testdata", "corpus")
	for _, p := range []string{"argo-cd/*.yaml", "ingress-nginx/*.yaml", "badpods/*.yaml", "kubernetes-goat/*/*.yaml", "kube-prometheus/*.yaml"} {
		more, _ := filepath.Glob(filepath.Join(corpus, p))
		inputs = append(inputs, more...)
	}
	examples, _ := filepath.Glob(filepath.Join("..", "..", "..", "examples", "*", "*.yaml"))
	inputs = append(inputs, examples...)
	if len(inputs) < 50 {
		t.Fatalf("only %d inputs", len(inputs))
	}

	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(srv.Client.Discovery()))
	ns := srv.Namespace(t, "fixed", map[string]string{api.EnforceLevelLabel: "restricted", api.EnforceVersionLabel: "latest"})
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	var fixes, admitted, pods int
	for _, file := range inputs {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		data = metadataName.ReplaceAllFunc(data, func(line []byte) []byte { return bytes.ReplaceAll(line, []byte("_"), []byte("-")) })
		opts := restricted
		if strings.Contains(file, "argo-cd") {
			opts.Namespace = "argocd" // as the corpus's SOURCES.md says it is applied
		}
		src := &manifest.Source{Paths: []string{"-"}, Stdin: bytes.NewReader(data)}
		r := run.ScanReport(t.Context(), src, cs, opts, 1, nil)
		objs, err := checktest.Objects(file, data, opts.Namespace)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, f := range r.Findings {
			if f.Suppressed != nil || checktest.IsAdvice(f) {
				continue
			}
			block, unknown := checktest.FillSlots(checktest.FixBlock(f.Remediation))
			pf, err := checktest.ParseFix(block)
			if len(unknown) > 0 || err != nil || block == "" {
				t.Errorf("%s: %s on %s: no fix to apply (TestEveryFixFixes says why)", file, f.CheckID, f.Object)
				continue
			}
			fixed, err := checktest.ApplyFix(objs, f.Object, pf)
			if errors.Is(err, checktest.ErrAmbiguous) {
				continue
			}
			if err != nil {
				t.Errorf("%s: %s on %s: %v", file, f.CheckID, f.Object, err)
				continue
			}
			objs = fixed
			fixes++
		}

		// ServiceAccounts first, for real: pods name them.
		for pass := range 2 {
			for _, o := range objs {
				if (o.Ref.Kind == "ServiceAccount") != (pass == 0) {
					continue
				}
				u := &unstructured.Unstructured{}
				if err := u.UnmarshalJSON(o.JSON); err != nil {
					t.Fatalf("%s: %s: %v", file, o.Ref, err)
				}
				gvk := u.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					continue // a custom resource this server does not serve
				}
				ri := dyn.Resource(m.Resource).Namespace("")
				if m.Scope.Name() == meta.RESTScopeNameNamespace {
					u.SetNamespace(ns.Name)
					ri = dyn.Resource(m.Resource).Namespace(ns.Name)
				}
				createOpts := dryRun
				if pass == 0 {
					createOpts = metav1.CreateOptions{}
				}
				_, err = ri.Create(t.Context(), u, createOpts)
				if pass == 0 && apierrors.IsAlreadyExists(err) {
					err = nil // another input's of the same name
				}
				if err != nil {
					t.Errorf("%s: fixed %s refused: %v\n%s", file, o.Ref, err, o.JSON)
					continue
				}
				admitted++
				if o.Ref.Kind == "Pod" {
					continue
				}
				// The workload's pods, as its controller would create them.
				docs := manifest.Split(o.JSON)
				parsed, errs := manifest.Parse(file, docs[0])
				if len(errs) > 0 || len(parsed) != 1 {
					t.Fatalf("%s: %s: %v", file, o.Ref, errs)
				}
				tmpl, err := parsed[0].PodTemplate()
				if err != nil || tmpl == nil || o.Ref.Kind == "PodTemplate" {
					continue
				}
				// A ServiceAccount the input names but does not hold is
				// the install's, in a file the corpus did not keep (the
				// kube-prometheus ones): it is created as that file would.
				if name := tmpl.Spec.ServiceAccountName; name != "" {
					sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
					if _, err := srv.Client.CoreV1().ServiceAccounts(ns.Name).Create(t.Context(), sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
						t.Fatal(err)
					}
				}
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: o.Ref.Name + "-pod", Namespace: ns.Name, Labels: tmpl.Metadata.Labels, Annotations: tmpl.Metadata.Annotations},
					Spec:       tmpl.Spec,
				}
				if _, err := srv.Client.CoreV1().Pods(ns.Name).Create(t.Context(), pod, dryRun); err != nil {
					t.Errorf("%s: the pod of fixed %s refused: %v", file, o.Ref, err)
					continue
				}
				pods++
			}
		}
	}
	t.Logf("%d inputs, %d fixes applied; %d fixed objects and %d pods of workloads admitted by kube-apiserver %s enforcing restricted",
		len(inputs), fixes, admitted, pods, srv.Version)
	if admitted < 100 || pods < 20 {
		t.Errorf("only %d objects and %d workload pods admitted", admitted, pods)
	}
}
