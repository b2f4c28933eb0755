package netpol

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/netpol"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/apimachinery/pkg/util/sets"
	clientset "k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/network-policy-api/conformance"
	"sigs.k8s.io/network-policy-api/conformance/tests"
	"sigs.k8s.io/network-policy-api/conformance/utils/config"
	"sigs.k8s.io/network-policy-api/conformance/utils/suite"
	"sigs.k8s.io/yaml"
)

// dataplane plays the cluster for the conformance suite of
// sigs.k8s.io/network-policy-api v0.3.0, run unchanged: its objects live in
// a fake client, and every probe (an exec of "agnhost connect" in a client
// pod) is answered by kubeguard's engine over the objects as they are at
// that moment, after the suite's own patches of policies, namespaces and
// pod labels.
type dataplane struct {
	t      *testing.T
	c      client.Client
	probes atomic.Int64
	denied atomic.Int64
	mu     sync.Mutex
}

// ExecInContainer answers "/agnhost connect --timeout=T --protocol=P
// HOST:PORT" from the pod: success, or TIMEOUT on stderr and exit 1, as
// agnhost does when the connection is dropped.
func (d *dataplane) ExecInContainer(ctx context.Context, name, uid, container string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	ns, pod, _ := strings.Cut(name, "/")
	if len(cmd) != 5 || cmd[0] != "/agnhost" || cmd[1] != "connect" {
		return fmt.Errorf("unexpected command %q", cmd)
	}
	proto := strings.ToUpper(strings.TrimPrefix(cmd[3], "--protocol="))
	host, portText, err := net.SplitHostPort(cmd[4])
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portText)
	allowed, err := d.allowed(ns+"/"+pod, host, proto, port)
	if err != nil {
		d.t.Errorf("probe %s -> %s %d/%s: %v", name, host, port, proto, err)
		return err
	}
	d.probes.Add(1)
	if allowed {
		return nil
	}
	d.denied.Add(1)
	fmt.Fprintln(errw, "TIMEOUT")
	return utilexec.CodeExitError{Err: errors.New("command terminated with exit code 1"), Code: 1}
}

// allowed asks kubeguard, reading the cluster's current objects as
// manifests, whether src may connect to host:port.
func (d *dataplane) allowed(src, host, proto string, port int) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var buf bytes.Buffer
	add := func(gvk schema.GroupVersionKind, o runtime.Object) {
		o.GetObjectKind().SetGroupVersionKind(gvk)
		b, err := yaml.Marshal(o)
		if err != nil {
			d.t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	ctx := context.Background()
	var nss corev1.NamespaceList
	var pods corev1.PodList
	var nps networkingv1.NetworkPolicyList
	var cnps v1beta1.ClusterNetworkPolicyList
	for _, l := range []client.ObjectList{&nss, &pods, &nps, &cnps} {
		if err := d.c.List(ctx, l); err != nil {
			return false, err
		}
	}
	for i := range nss.Items {
		add(corev1.SchemeGroupVersion.WithKind("Namespace"), &nss.Items[i])
	}
	for i := range pods.Items {
		add(corev1.SchemeGroupVersion.WithKind("Pod"), &pods.Items[i])
	}
	for i := range nps.Items {
		add(networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), &nps.Items[i])
	}
	for i := range cnps.Items {
		add(schema.GroupVersionKind{Group: v1beta1.GroupName, Version: v1beta1.GroupVersion.Version, Kind: "ClusterNetworkPolicy"}, &cnps.Items[i])
	}
	n := load(d.t, buf.Bytes())
	s, err := n.Lookup(src)
	if err != nil {
		return false, err
	}
	dst, err := n.Lookup(host)
	if err != nil {
		return false, err
	}
	p, ok := netpol.ParseProtocol(proto)
	if !ok {
		return false, fmt.Errorf("protocol %q", proto)
	}
	return n.Allowed(s, dst).Has(p, port), nil
}

// ServeHTTP serves the exec subresource, as a kubelet behind the API
// server would.
func (d *dataplane) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// /api/v1/namespaces/NS/pods/POD/exec
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 7 || parts[6] != "exec" {
		http.NotFound(w, r)
		return
	}
	// The API server's parameters (PodExecOptions), which it would
	// translate for the kubelet.
	q := r.URL.Query()
	opts := &remotecommand.Options{Stdin: q.Get("stdin") == "true", Stdout: q.Get("stdout") == "true", Stderr: q.Get("stderr") == "true", TTY: q.Get("tty") == "true"}
	remotecommand.ServeExec(w, r, d, parts[3]+"/"+parts[5], "", q.Get("container"), q["command"], opts, time.Minute, 10*time.Second, remotecommandconsts.SupportedStreamingProtocols)
}

// startPods does what the controllers and kubelets would: a pod for each
// replica of each StatefulSet, running, with an address (the node's for
// host-network pods).
func startPods(t *testing.T, c client.Client) {
	ctx := context.Background()
	var sets appsv1.StatefulSetList
	if err := c.List(ctx, &sets); err != nil {
		t.Fatal(err)
	}
	next := 10
	for _, s := range sets.Items {
		replicas := 1
		if s.Spec.Replicas != nil {
			replicas = int(*s.Spec.Replicas)
		}
		for i := range replicas {
			p := &corev1.Pod{}
			p.Namespace, p.Name = s.Namespace, fmt.Sprintf("%s-%d", s.Name, i)
			// The labels the StatefulSet controller adds to each pod.
			p.Labels = maps.Clone(s.Spec.Template.Labels)
			p.Labels["statefulset.kubernetes.io/pod-name"] = p.Name
			p.Labels["apps.kubernetes.io/pod-index"] = strconv.Itoa(i)
			p.Spec = s.Spec.Template.Spec
			ip := fmt.Sprintf("10.244.0.%d", next)
			if p.Spec.HostNetwork {
				ip = fmt.Sprintf("172.18.0.%d", next)
			}
			next++
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
			if err := c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// hostNetworkPorts is the number of host-network ports the suite
// templates into its manifests (its hostNetworkPortsAmount).
const hostNetworkPorts = 8

// TestConformance runs the conformance suite of sigs.k8s.io/network-policy-api
// v0.3.0, every test of the features kubeguard models, with kubeguard as
// the dataplane: every connection it asserts allowed or denied must be.
// ClusterNetworkPolicyEgressNodePeers is out: node addresses and host-
// network pods are not in the input kubeguard reads.
func TestConformance(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).Build()
	dp := &dataplane{t: t, c: c}
	srv := httptest.NewServer(dp)
	defer srv.Close()
	cfg := rest.Config{Host: srv.URL}
	cs, err := clientset.NewForConfig(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	timeouts := config.DefaultTimeoutConfig()
	timeouts.PokeTimeout, timeouts.PokeInterval, timeouts.RequestTimeout = 2*time.Second, 200*time.Millisecond, time.Second
	s := suite.New(suite.Options{
		Client: c, ClientSet: cs, KubeConfig: cfg,
		SupportedFeatures: sets.New(suite.SupportClusterNetworkPolicy, suite.SupportClusterNetworkPolicyNamedPorts),
		TimeoutConfig:     timeouts,
	})
	// Setup as suite.Setup does, with startPods in place of waiting for
	// the cluster's controllers.
	ports := make([]int, 0, 2)
	for p := 34345; p < 34345+hostNetworkPorts; p++ {
		ports = append(ports, p)
	}
	s.HostNetworkPorts = ports
	s.Applier.HostNetworkPorts = ports
	s.Applier.FS = conformance.Manifests
	s.Applier.MustApplyWithCleanup(t, c, timeouts, s.BaseManifests, false)
	startPods(t, c)

	ran := 0
	for _, test := range tests.ConformanceTests {
		t.Run(test.ShortName, func(t *testing.T) {
			test.Run(t, s)
			if !t.Skipped() {
				ran++
			}
		})
	}
	t.Logf("%d of %d conformance tests run, %d probes answered (%d denied)", ran, len(tests.ConformanceTests), dp.probes.Load(), dp.denied.Load())
	if ran < len(tests.ConformanceTests)-3 || dp.probes.Load() < 300 {
		t.Errorf("too little ran")
	}
}
