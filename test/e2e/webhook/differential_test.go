package webhook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

// collector keeps the warnings of the last request.
type collector struct {
	mu       sync.Mutex
	warnings []string
}

func (c *collector) HandleWarningHeader(_ int, _ string, w string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warnings = append(c.warnings, w)
}

func (c *collector) flush() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.warnings
	c.warnings = nil
	return w
}

func warnClient(t *testing.T, cfg *rest.Config) (kubernetes.Interface, *collector) {
	t.Helper()
	c := &collector{}
	cc := rest.CopyConfig(cfg)
	cc.WarningHandler = c
	client, err := kubernetes.NewForConfig(cc)
	if err != nil {
		t.Fatal(err)
	}
	return client, c
}

// answer is what a dry-run create got back.
type answer struct {
	Allowed  bool
	Code     int32
	Message  string
	Warnings []string
}

// webhookDenial is how the API server words a webhook's denial before
// the webhook's own message.
const webhookDenial = `admission webhook "pods.webhook.kubeguard.io" denied the request: `

// TestDifferentialWithBuiltin sends every upstream fixture pod, and a
// Deployment of it, to a second API server running the built-in
// PodSecurity plugin and to this package's server, where only kubeguard's
// webhook judges Pod Security; allow or deny, status code, message and
// warnings must be the same. The API server words a webhook's denial as
// `admission webhook "<name>" denied the request: <message>`: that prefix
// is the only difference allowed.
func TestDifferentialWithBuiltin(t *testing.T) {
	webhookUnderTest(t)
	ctx := context.Background()
	builtin, err := apiserver.Start(ctx, apiserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer builtin.Stop()

	mod, err := apiserver.ModuleDir(ctx, "k8s.io/pod-security-admission")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(mod, "test", "testdata")
	servers := []struct {
		name string
		srv  *apiserver.Server
	}{{"builtin", builtin}, {"kubeguard", srv}}
	clients := make([]kubernetes.Interface, 2)
	collectors := make([]*collector, 2)
	for i, s := range servers {
		clients[i], collectors[i] = warnClient(t, s.srv.Config)
	}
	var total, denied, invalid int
	for _, level := range []string{"baseline", "restricted"} {
		versions := versionDirs(t, filepath.Join(root, level))
		newest := versions[len(versions)-1]
		for _, v := range []string{"latest", "v1.22", "v1.25", "v1.30", newest} {
			dir := v
			if v == "latest" {
				dir = newest
			}
			labels := map[string]string{
				"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": v,
				"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "latest",
			}
			nsName := fmt.Sprintf("diff-%s-%s", level, strings.ReplaceAll(v, ".", "-"))
			for i, s := range servers {
				if _, err := createNamespace(ctx, clients[i], nsName, labels); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
			}
			for _, kind := range []string{"pass", "fail"} {
				files, _ := filepath.Glob(filepath.Join(root, level, dir, kind, "*.yaml"))
				if len(files) == 0 {
					t.Fatalf("no fixtures in %s/%s/%s", level, dir, kind)
				}
				for _, file := range files {
					p := readPod(t, file)
					p.Name = strings.ReplaceAll(strings.TrimSuffix(filepath.Base(file), ".yaml"), "_", "-")
					var got [2]answer
					var gotWorkload [2]answer
					for i := range servers {
						got[i] = dryRun(ctx, clients[i], collectors[i], nsName, p)
						gotWorkload[i] = dryRunDeployment(ctx, clients[i], collectors[i], nsName, p)
					}
					total++
					switch {
					case got[0].Code == 403:
						denied++
					case !got[0].Allowed:
						invalid++
					}
					want := got[0]
					// Objects validation rejects (procMount Unmasked without
					// hostUsers: false, say) never reach admission on either.
					if want.Code == 403 {
						want.Message = webhookDenial + want.Message
					}
					if d := cmp.Diff(want, got[1]); d != "" {
						t.Errorf("%s %s %s/%s pod (-builtin +kubeguard):\n%s", level, v, kind, filepath.Base(file), d)
					}
					if d := cmp.Diff(gotWorkload[0], gotWorkload[1]); d != "" {
						t.Errorf("%s %s %s/%s Deployment (-builtin +kubeguard):\n%s", level, v, kind, filepath.Base(file), d)
					}
				}
			}
		}
	}
	if denied == 0 || denied == total {
		t.Errorf("%d of %d denied: the fixtures did not exercise both answers", denied, total)
	}
	t.Logf("%d fixture pods and as many Deployments, %d pods denied by Pod Security, %d invalid, same answers from the built-in plugin (kube-apiserver %s) and kubeguard", total, denied, invalid, builtin.Version)
}

func dryRun(ctx context.Context, c kubernetes.Interface, w *collector, ns string, p *corev1.Pod) answer {
	w.flush()
	_, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return toAnswer(err, w.flush())
}

func dryRunDeployment(ctx context.Context, c kubernetes.Interface, w *collector, ns string, p *corev1.Pod) answer {
	labels := map[string]string{"app": "x"}
	meta := *p.ObjectMeta.DeepCopy()
	meta.Labels = labels
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: p.Name}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: meta, Spec: p.Spec}}}
	w.flush()
	_, err := c.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return toAnswer(err, w.flush())
}

func toAnswer(err error, warnings []string) answer {
	a := answer{Allowed: err == nil, Warnings: warnings}
	if err != nil {
		a.Message = err.Error()
		if s, ok := err.(apierrors.APIStatus); ok {
			a.Code, a.Message = s.Status().Code, s.Status().Message
		}
	}
	return a
}

func readPod(t *testing.T, file string) *corev1.Pod {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p corev1.Pod
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &p
}

// versionDirs lists the v1.N fixture directories of a level, oldest first.
func versionDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "v1.") {
			out = append(out, e.Name())
		}
	}
	minor := func(v string) int { n, _ := strconv.Atoi(strings.TrimPrefix(v, "v1.")); return n }
	sort.Slice(out, func(i, j int) bool { return minor(out[i]) < minor(out[j]) })
	if len(out) == 0 {
		t.Fatalf("no versions in %s", dir)
	}
	return slices.Clip(out)
}

// createNamespace creates a namespace by name with its default
// ServiceAccount, which pods need and no controller creates here.
func createNamespace(ctx context.Context, c kubernetes.Interface, name string, labels map[string]string) (*corev1.Namespace, error) {
	ns, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	_, err = c.CoreV1().ServiceAccounts(name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	return ns, nil
}
