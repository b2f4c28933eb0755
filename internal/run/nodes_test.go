package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// fakeNodes serves mirror pods, nodes and configz answers.
type fakeNodes struct {
	mirrors []cluster.MirrorPod
	nodes   []string
	configz map[string]string
	errs    map[string]error
	listErr error
	asked   []string
}

func (f *fakeNodes) MirrorPods(_ context.Context, fn func(cluster.MirrorPod) error) error {
	for _, m := range f.mirrors {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeNodes) Each(_ context.Context, r cluster.Resource, fn func(*cluster.Item) error) error {
	if f.listErr != nil {
		return f.listErr
	}
	for _, n := range f.nodes {
		u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": n}}}
		if err := fn(&cluster.Item{Resource: r, Meta: u, Raw: u.Object}); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeNodes) Configz(_ context.Context, n string) ([]byte, error) {
	f.asked = append(f.asked, n)
	if err := f.errs[n]; err != nil {
		return nil, err
	}
	return []byte(f.configz[n]), nil
}

// TestScanNodes: every node is read once; one that fails is an error
// naming it and the others are judged; mirror pods are judged with their
// node, or alone when their node is not listed.
func TestScanNodes(t *testing.T) {
	insecure := `{"kubeletconfig":{"authentication":{"anonymous":{"enabled":true},"webhook":{"enabled":true}},"authorization":{"mode":"Webhook"},"readOnlyPort":10255,"podPidsLimit":4096,"seccompDefault":true,"rotateCertificates":true,"serverTLSBootstrap":true,"makeIPTablesUtilChains":true,"protectKernelDefaults":true,"streamingConnectionIdleTimeout":"4h0m0s","eventRecordQPS":50}}`
	f := &fakeNodes{
		mirrors: []cluster.MirrorPod{
			{Namespace: "kube-system", Name: "kube-scheduler-cp", Node: "cp", Containers: []cluster.PodContainer{{Name: "kube-scheduler", Command: []string{"kube-scheduler", "--profiling=true", "--bind-address=127.0.0.1"}}}},
			{Namespace: "kube-system", Name: "kube-scheduler-gone", Node: "gone", Containers: []cluster.PodContainer{{Name: "kube-scheduler", Command: []string{"kube-scheduler", "--bind-address=0.0.0.0", "--profiling=false"}}}},
		},
		nodes:   []string{"cp", "w-403", "w-bad"},
		configz: map[string]string{"cp": insecure, "w-bad": `{"kubeletconfig":{"readOnlyPort":{}}}`},
		errs:    map[string]error{"w-403": &cluster.NodeError{Node: "w-403", Status: 403}},
	}
	// A cluster scan's filter reads annotations; the node's objects have
	// none to read.
	res := ScanNodes(context.Background(), f, f, node.Checks(), &suppress.Filter{}, time.Now())
	var got []string
	for _, fd := range res.Findings {
		got = append(got, fmt.Sprintf("%s %s %s", fd.Object, fd.CheckID, fd.Path))
	}
	slices.Sort(got)
	want := []string{
		"Node/cp kubelet-anonymous-auth kubeletconfig.authentication.anonymous.enabled",
		"Node/cp kubelet-client-ca kubeletconfig.authentication.x509.clientCAFile",
		"Node/cp kubelet-read-only-port kubeletconfig.readOnlyPort",
		"Pod/kube-system/kube-scheduler-cp scheduler-profiling spec.containers[0].command[1]",
		"Pod/kube-system/kube-scheduler-gone scheduler-bind-address spec.containers[0].command[1]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Nodes != 1 || len(res.Errors) != 2 {
		t.Fatalf("%d nodes judged, errors %v", res.Nodes, res.Errors)
	}
	for i, n := range []string{"w-403", "w-bad"} {
		if e := res.Errors[i]; e.Location.File != "node/"+n || !strings.HasPrefix(e.Message, "kubelet not judged: ") {
			t.Errorf("error %d: %v", i, e)
		}
	}
	if !slices.Equal(f.asked, []string{"cp", "w-403", "w-bad"}) {
		t.Errorf("configz asked of %v", f.asked)
	}

	// Nodes that cannot be listed: an error saying so; the mirror pods
	// are still judged.
	f.listErr = &cluster.Warning{Resource: cluster.Nodes, Err: errors.New("forbidden")}
	f.asked = nil
	res = ScanNodes(context.Background(), f, f, node.Checks(), nil, time.Now())
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "kubelets not judged") || len(res.Findings) != 2 || f.asked != nil {
		t.Errorf("errors %v, %d findings, asked %v", res.Errors, len(res.Findings), f.asked)
	}
}
