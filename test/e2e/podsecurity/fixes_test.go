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
	"github.com/kubeguard/kubeguard/internal/finding"
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
// version, the real-world corpus, the examples, and each check's failing
// fixture), every fix a scan writes
// (all but the advice, checktest.AdviceOnly) is applied, and every object
// of the fixed input is created, as a server-side dry run, in a namespace
// that enforces restricted: the server must accept each, by its own
// validation and by its Pod Security admission. A workload's pod template
// is dry-run as a Pod as well, since Pod Security enforces on Pods.
// ServiceAccounts are created for real first: the ServiceAccount admission
// plugin refuses a pod whose ServiceAccount does not exist. An object the
// server's validation refuses as the input wrote it, before any fix (a
// fixture's TLS Secret without its keys), is logged, not held against the
// fix. With service-exposed's former fix (type: ClusterIP alone), the
// server refuses ingress-nginx's controller Service (externalTrafficPolicy
// Local) and kubernetes-goat's (a nodePort) here.
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
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "..", "internal", "checks", "*", "testdata", "*.yaml"))
	for _, f := range fixtures {
		if !strings.HasSuffix(f, "_ok.yaml") {
			inputs = append(inputs, f)
		}
	}
	if len(inputs) < 50 {
		t.Fatalf("only %d inputs", len(inputs))
	}

	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(srv.Client.Discovery()))
	ns := srv.Namespace(t, "fixed", map[string]string{api.EnforceLevelLabel: "restricted", api.EnforceVersionLabel: "latest"})
	c := &creator{dyn: dyn, mapper: mapper, ns: ns.Name}
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
		original := objs
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
				if pass == 0 {
					if err := c.create(t, o, false); err != nil && !apierrors.IsAlreadyExists(err) {
						t.Errorf("%s: fixed %s refused: %v", file, o.Ref, err)
					}
					continue
				}
				// What the object and its pods name, as the install's
				// other files would hold it.
				for _, x := range []*checktest.Object{&o, c.original(original, o.Ref)} {
					if pod := podOf(t, file, x); pod != nil {
						c.serviceAccount(t, pod.Spec.ServiceAccountName)
					}
				}
				err := c.create(t, o, true)
				if errors.Is(err, errNotServed) {
					continue
				}
				if err != nil && !c.invalidBefore(t, c.original(original, o.Ref), false) {
					t.Errorf("%s: fixed %s refused: %v\n%s", file, o.Ref, err, o.JSON)
					continue
				}
				if err == nil {
					admitted++
				}
				// The workload's pods, as its controller would create them.
				pod := podOf(t, file, &o)
				if pod == nil || o.Ref.Kind == "Pod" {
					continue
				}
				if _, err := srv.Client.CoreV1().Pods(c.ns).Create(t.Context(), pod, dryRun); err != nil {
					if !c.invalidBefore(t, c.original(original, o.Ref), true) {
						t.Errorf("%s: the pod of fixed %s refused: %v", file, o.Ref, err)
					}
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

// dryRun creates nothing: the server validates and admits, and stops.
var dryRun = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

// errNotServed is create's error for a kind the server does not serve (a
// custom resource).
var errNotServed = errors.New("not served")

// creator creates the objects of inputs in one namespace.
type creator struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	ns     string
}

// create creates o, in the namespace when o is namespaced, for real or as
// a dry run.
func (c *creator) create(t *testing.T, o checktest.Object, dry bool) error {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(o.JSON); err != nil {
		t.Fatalf("%s: %v", o.Ref, err)
	}
	gvk := u.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return errNotServed
	}
	ri := c.dyn.Resource(m.Resource).Namespace("")
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		u.SetNamespace(c.ns)
		ri = c.dyn.Resource(m.Resource).Namespace(c.ns)
	}
	opts := metav1.CreateOptions{}
	if dry {
		opts = dryRun
	}
	_, err = ri.Create(t.Context(), u, opts)
	return err
}

// serviceAccount creates ServiceAccount name, unless it exists: a pod
// names one the install holds in a file the input does not have.
func (c *creator) serviceAccount(t *testing.T, name string) {
	if name == "" {
		return
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := srv.Client.CoreV1().ServiceAccounts(c.ns).Create(t.Context(), sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// original is the object of the input before any fix, nil when a fix
// added it.
func (c *creator) original(objs []checktest.Object, ref finding.ObjectRef) *checktest.Object {
	for i := range objs {
		if objs[i].Ref == ref {
			return &objs[i]
		}
	}
	return nil
}

// invalidBefore reports whether the server's validation refuses the object
// (or its pod) as the input wrote it, before any fix: a fixture that is
// no valid object (a TLS Secret without its keys, a Pod with ephemeral
// containers) is not the fix's to repair. A refusal by admission (Pod
// Security) is not that: the fixes must answer it.
func (c *creator) invalidBefore(t *testing.T, o *checktest.Object, pod bool) bool {
	if o == nil {
		return false
	}
	var err error
	if pod {
		p := podOf(t, "original", o)
		if p == nil {
			return false
		}
		_, err = srv.Client.CoreV1().Pods(c.ns).Create(t.Context(), p, dryRun)
	} else {
		err = c.create(t, *o, true)
	}
	if apierrors.IsInvalid(err) {
		t.Logf("%s: refused before any fix too, by validation: %v", o.Ref, err)
		return true
	}
	return false
}

// podOf is the Pod an object with a pod template makes, nil for others.
func podOf(t *testing.T, file string, o *checktest.Object) *corev1.Pod {
	if o == nil {
		return nil
	}
	parsed, errs := manifest.Parse(file, manifest.Split(o.JSON)[0])
	if len(errs) > 0 || len(parsed) != 1 {
		t.Fatalf("%s: %s: %v", file, o.Ref, errs)
	}
	tmpl, err := parsed[0].PodTemplate()
	if err != nil || tmpl == nil || o.Ref.Kind == "PodTemplate" {
		return nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: o.Ref.Name + "-pod", Labels: tmpl.Metadata.Labels, Annotations: tmpl.Metadata.Annotations},
		Spec:       tmpl.Spec,
	}
}
