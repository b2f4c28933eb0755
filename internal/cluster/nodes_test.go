package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestConfigzErrors holds each way a node's /configz can fail to come
// through the API server to an error naming the node and, for a refusal,
// the missing permission; and the good answer to the exact path.
func TestConfigzErrors(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	huge := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/prefix/api/v1/nodes/"), "/proxy/configz")
		if !strings.HasPrefix(r.URL.Path, "/prefix/api/v1/nodes/") || !strings.HasSuffix(r.URL.Path, "/proxy/configz") {
			http.Error(w, "unexpected path "+r.URL.Path, http.StatusTeapot)
			return
		}
		status := func(code int, reason, msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"` + reason + `","message":"` + msg + `","code":403}`))
		}
		switch node {
		case "good":
			w.Write([]byte(`{"kubeletconfig":{}}`))
		case "forbidden":
			status(403, "Forbidden", `nodes \"forbidden\" is forbidden: User \"alice\" cannot get resource \"nodes/proxy\"`)
		case "kubelet-forbidden":
			w.WriteHeader(403)
			w.Write([]byte("Forbidden (user=kube-apiserver, verb=get, resource=nodes, subresource(s)=[proxy])\n"))
		case "notready":
			status(503, "ServiceUnavailable", "error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused")
		case "slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "slow-body":
			w.Write([]byte(`{"kubeletconfig":{`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "huge":
			w.Write([]byte(`{"kubeletconfig":{"x":"` + huge + `"}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	p := &NodeProxy{Client: srv.Client(), Server: srv.URL + "/prefix", Timeout: 300 * time.Millisecond, Limit: 1024}
	for _, tc := range []struct {
		node   string
		status int
		want   []string
	}{
		{"forbidden", 403, []string{"node forbidden:", "get on nodes/proxy for kubeguard's identity", `cannot get resource "nodes/proxy"`}},
		{"kubelet-forbidden", 403, []string{"the kubelet refused the API server", "kubelet client identity", "nodes/proxy"}},
		{"notready", 503, []string{"could not reach the kubelet", "NotReady", "connection refused"}},
		{"slow", 0, []string{"no answer", "within 300ms"}},
		{"slow-body", 200, []string{"did not end within 300ms"}},
		{"huge", 200, []string{"larger than 1024 bytes"}},
		{"missing", 404, []string{"serves no /configz"}},
		{"a/b", 0, []string{"not a node name"}},
	} {
		t.Run(tc.node, func(t *testing.T) {
			start := time.Now()
			_, err := p.Configz(context.Background(), tc.node)
			var ne *NodeError
			if !errors.As(err, &ne) {
				t.Fatalf("error %v (%T), want a *NodeError", err, err)
			}
			if ne.Node != tc.node || ne.Status != tc.status {
				t.Errorf("node %q status %d, want %q %d", ne.Node, ne.Status, tc.node, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	data, err := p.Configz(context.Background(), "good")
	if err != nil || string(data) != `{"kubeletconfig":{}}` {
		t.Errorf("good node: %q %v", data, err)
	}
}

// podLister serves fixed pods and records the namespace asked.
type podLister struct {
	pods  []map[string]any
	asked []string
}

func (l *podLister) List(_ context.Context, r Resource, ns string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	l.asked = append(l.asked, r.GVR.Resource+" in "+ns+" where "+opts.FieldSelector)
	out := &unstructured.UnstructuredList{}
	for _, p := range l.pods {
		out.Items = append(out.Items, unstructured.Unstructured{Object: p})
	}
	return out, nil
}

// TestMirrorPods hands on the mirror pods of kube-system, whatever their
// phase, with their containers' command lines and node, and nothing else.
func TestMirrorPods(t *testing.T) {
	pod := func(name string, mirror bool, containers ...any) map[string]any {
		meta := map[string]any{"name": name, "namespace": "kube-system"}
		if mirror {
			meta["annotations"] = map[string]any{MirrorPodAnnotation: "abc"}
		}
		return map[string]any{"metadata": meta, "spec": map[string]any{"nodeName": "cp-1", "containers": containers},
			"status": map[string]any{"phase": "Pending"}}
	}
	l := &podLister{pods: []map[string]any{
		pod("kube-apiserver-cp-1", true, map[string]any{"name": "kube-apiserver", "image": "k8s/kube-apiserver:v1.36.3", "command": []any{"kube-apiserver", "--anonymous-auth=true"}}),
		pod("coredns-1", false, map[string]any{"name": "coredns", "args": []any{"-conf"}}),
		pod("etcd-cp-1", true, map[string]any{"name": "etcd", "args": []any{"--data-dir=/var/lib/etcd"}}),
	}}
	c := &Collector{Lister: l, Namespace: "payments"}
	var got []MirrorPod
	if err := c.MirrorPods(context.Background(), func(mp MirrorPod) error { got = append(got, mp); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []MirrorPod{
		{Namespace: "kube-system", Name: "kube-apiserver-cp-1", Node: "cp-1", Containers: []PodContainer{{Name: "kube-apiserver", Image: "k8s/kube-apiserver:v1.36.3", Command: []string{"kube-apiserver", "--anonymous-auth=true"}}}},
		{Namespace: "kube-system", Name: "etcd-cp-1", Node: "cp-1", Containers: []PodContainer{{Name: "etcd", Args: []string{"--data-dir=/var/lib/etcd"}}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mirror pods (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"pods in kube-system where "}, l.asked); d != "" {
		t.Errorf("lists (-want +got):\n%s", d)
	}
	l.pods = []map[string]any{pod("bad", true, map[string]any{"name": "x", "command": []any{1}})}
	if err := c.MirrorPods(context.Background(), func(MirrorPod) error { return nil }); err == nil || !strings.Contains(err.Error(), "pod kube-system/bad: spec.containers[0].command") {
		t.Errorf("a malformed mirror pod: %v", err)
	}
}
