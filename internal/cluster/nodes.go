package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Nodes are the cluster's nodes, listed by kubeguard cluster --nodes.
var Nodes = res("", "v1", "nodes", "Node", false)

// systemPods are the pods of kube-system, every phase: a static pod that
// crashes is still the control plane's command line.
var systemPods = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod", Namespaced: true}

// MirrorPodAnnotation marks a mirror pod: the API's copy of a static pod,
// which a kubelet runs from a file on its node.
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

// SystemNamespace is where the control plane's static pods are mirrored.
const SystemNamespace = "kube-system"

// MirrorPod is a mirror pod's containers and the node that runs it.
type MirrorPod struct {
	Namespace, Name, Node string
	Containers            []PodContainer
}

// PodContainer is a container's image and command line.
type PodContainer struct {
	Name, Image   string
	Command, Args []string
}

// MirrorPods lists the pods of kube-system page by page and hands on the
// mirror pods, each as its containers' command lines. Not being allowed to
// list them is a *Warning, as for any resource.
func (c *Collector) MirrorPods(ctx context.Context, fn func(MirrorPod) error) error {
	sys := *c
	sys.Namespace = SystemNamespace
	return sys.Each(ctx, systemPods, func(it *Item) error {
		if _, ok := it.Meta.GetAnnotations()[MirrorPodAnnotation]; !ok {
			return nil
		}
		mp, err := mirrorPod(it)
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", it.Meta.GetNamespace(), it.Meta.GetName(), err)
		}
		return fn(mp)
	})
}

func mirrorPod(it *Item) (MirrorPod, error) {
	mp := MirrorPod{Namespace: it.Meta.GetNamespace(), Name: it.Meta.GetName()}
	spec, _ := it.Raw["spec"].(map[string]any)
	mp.Node, _ = spec["nodeName"].(string)
	cs, ok := spec["containers"].([]any)
	if !ok && spec["containers"] != nil {
		return mp, errors.New("spec.containers is not a list")
	}
	for i, c := range cs {
		m, ok := c.(map[string]any)
		if !ok {
			return mp, fmt.Errorf("spec.containers[%d] is not an object", i)
		}
		var pc PodContainer
		pc.Name, _ = m["name"].(string)
		pc.Image, _ = m["image"].(string)
		var err error
		if pc.Command, err = stringList(m["command"]); err != nil {
			return mp, fmt.Errorf("spec.containers[%d].command: %w", i, err)
		}
		if pc.Args, err = stringList(m["args"]); err != nil {
			return mp, fmt.Errorf("spec.containers[%d].args: %w", i, err)
		}
		mp.Containers = append(mp.Containers, pc)
	}
	return mp, nil
}

// stringList reads a list of strings of a decoded object; nil is none.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, errors.New("not a list")
	}
	out := make([]string, len(l))
	for i, x := range l {
		if out[i], ok = x.(string); !ok {
			return nil, fmt.Errorf("item %d is not a string", i)
		}
	}
	return out, nil
}

// NodeReady says whether a listed Node's Ready condition is True.
func NodeReady(it *Item) bool {
	status, _ := it.Raw["status"].(map[string]any)
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			return m["status"] == "True"
		}
	}
	return false
}

// NodeProxy reads kubelets' /configz through the API server's node proxy
// (GET /api/v1/nodes/NAME/proxy/configz), which needs get on nodes/proxy:
// a permission that also lets its holder run commands in every pod of the
// node through the kubelet API, which is why kubeguard asks for it only
// with --nodes.
type NodeProxy struct {
	// Client sends the requests with the connection's credentials.
	Client *http.Client
	// Server is the API server's URL (rest.Config.Host).
	Server string
	// Timeout bounds each node's request; DefaultNodeTimeout when zero.
	Timeout time.Duration
	// Limit bounds an answer's size; DefaultConfigzLimit when zero.
	Limit int64
}

// Defaults of a NodeProxy.
const (
	DefaultNodeTimeout  = 15 * time.Second
	DefaultConfigzLimit = 1 << 20
)

// NewNodeProxy makes the node proxy of a client configuration.
func NewNodeProxy(cfg *rest.Config) (*NodeProxy, error) {
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("node proxy client: %w", err)
	}
	return &NodeProxy{Client: c, Server: cfg.Host}, nil
}

// NodeError is a node whose kubelet could not be read through the API
// server: the rest of the nodes are read all the same.
type NodeError struct {
	Node string
	// Status is the HTTP status of the answer; 0 when none came.
	Status int
	msg    string
}

// Error says what failed and, for a refusal, which permission is missing.
func (e *NodeError) Error() string { return "node " + e.Node + ": " + e.msg }

// Configz returns a kubelet's /configz answer, read through the API
// server. Every failure is a *NodeError.
func (p *NodeProxy) Configz(ctx context.Context, node string) ([]byte, error) {
	timeout, limit := p.Timeout, p.Limit
	if timeout <= 0 {
		timeout = DefaultNodeTimeout
	}
	if limit <= 0 {
		limit = DefaultConfigzLimit
	}
	if node == "" || node == "." || node == ".." || strings.ContainsAny(node, "/?#%\\") {
		return nil, &NodeError{Node: node, msg: "not a node name"}
	}
	u, err := url.Parse(p.Server)
	if err != nil {
		return nil, &NodeError{Node: node, msg: fmt.Sprintf("API server URL: %v", err)}
	}
	u.Path = path.Join("/", u.Path, "api/v1/nodes", node, "proxy/configz")
	u.RawPath = ""
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &NodeError{Node: node, msg: err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded {
			return nil, &NodeError{Node: node, msg: fmt.Sprintf("no answer through the API server's node proxy within %s", timeout)}
		}
		return nil, &NodeError{Node: node, msg: fmt.Sprintf("node proxy: %v", rootError(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, &NodeError{Node: node, Status: resp.StatusCode, msg: fmt.Sprintf("the answer did not end within %s", timeout)}
		}
		return nil, &NodeError{Node: node, Status: resp.StatusCode, msg: fmt.Sprintf("read the answer: %v", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &NodeError{Node: node, Status: resp.StatusCode, msg: refusal(resp.StatusCode, data)}
	}
	if int64(len(data)) > limit {
		return nil, &NodeError{Node: node, Status: resp.StatusCode, msg: fmt.Sprintf("the kubelet's /configz answer is larger than %d bytes", limit)}
	}
	return data, nil
}

// rootError is the innermost error of a failed request, without the URL.
func rootError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// refusal says why an answer is not the configuration, and what would
// let it through. An answer of the API server itself is a Status object;
// anything else is the kubelet's own answer, passed on by the proxy.
func refusal(code int, body []byte) string {
	var st struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	fromServer := json.Unmarshal(body, &st) == nil && st.Kind == "Status"
	msg := ""
	if fromServer {
		msg = ": " + printable(st.Message, 300)
	}
	switch {
	case code == http.StatusForbidden && fromServer:
		return "forbidden by the API server: reading a kubelet's configuration needs get on nodes/proxy for kubeguard's identity (deploy/scanner/nodes-rbac.yaml)" + msg
	case code == http.StatusForbidden:
		// The kubelet authorizes /configz as nodes/configz (with the
		// KubeletFineGrainedAuthz gate) or nodes/proxy (pkg/kubelet/
		// server/auth.go in k8s.io/kubernetes).
		return "the kubelet refused the API server (403): the API server's kubelet client identity (--kubelet-client-certificate) needs get on nodes/configz or nodes/proxy from the kubelet's authorizer (kubeadm binds it to system:kubelet-api-admin)"
	case code == http.StatusUnauthorized && fromServer:
		return "the API server did not authenticate kubeguard (401)" + msg
	case code == http.StatusUnauthorized:
		return "the kubelet did not authenticate the API server (401): its --kubelet-client-certificate is not signed by the kubelet's client CA"
	case code == http.StatusNotFound && fromServer:
		return "not found (404)" + msg
	case code == http.StatusNotFound:
		return "the kubelet serves no /configz (404)"
	case code >= 500 && fromServer:
		return fmt.Sprintf("the API server could not reach the kubelet (%d; the node may be NotReady or unreachable)%s", code, msg)
	case fromServer:
		return fmt.Sprintf("the API server answered %d%s", code, msg)
	}
	return fmt.Sprintf("the kubelet answered %d", code)
}

// printable keeps at most n bytes of the printable characters of s, for
// messages that quote a server's words.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "..."
	}
	return s
}
