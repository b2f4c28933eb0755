package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// A node read through the API (kubeguard cluster --nodes) is judged by the
// same checks as one read from its files, from what the API serves of it:
// the command lines of its control-plane static pods, as their mirror pods
// show them, and its kubelet's running configuration, as the kubelet's
// /configz answers through the API server's node proxy. Its locations are
// field paths of those objects (spec.containers[0].command[5],
// kubeletconfig.authentication.anonymous.enabled), carried in the File of
// each Location and moved to the findings' Path when they are reported.
// The files its flags name are on the node, not where kubeguard runs, and
// are never read: Unjudged says what that leaves unjudged.

// Container is one container of a pod as the API serves it.
type Container struct {
	Name, Image   string
	Command, Args []string
}

// MirrorPod returns the command lines of the components a mirror pod (the
// API's copy of a static pod) runs, located by field path. A pod that runs
// none of them gives none.
func MirrorPod(namespace, name string, containers []Container) []*CommandLine {
	var out []*CommandLine
	for i, c := range containers {
		prefix := fmt.Sprintf("spec.containers[%d]", i)
		toks := make([]token, 0, len(c.Command)+len(c.Args))
		for j, w := range c.Command {
			toks = append(toks, token{w, finding.Location{File: fmt.Sprintf("%s.command[%d]", prefix, j)}})
		}
		for j, w := range c.Args {
			toks = append(toks, token{w, finding.Location{File: fmt.Sprintf("%s.args[%d]", prefix, j)}})
		}
		comp, rest := componentOfContainer(c.Name, len(c.Command) > 0, toks)
		if comp == "" {
			continue
		}
		out = append(out, &CommandLine{
			Component: comp,
			Container: c.Name,
			Ref:       finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: namespace, Name: name},
			Loc:       finding.Location{File: prefix},
			Version:   imageVersion(c.Image),
			Args:      parseArgs(rest),
		})
	}
	return out
}

// MaxConfigzSize bounds a /configz answer: a kubelet's is a few kilobytes.
const MaxConfigzSize = 1 << 20

// maxConfigzDepth bounds the nesting of a /configz answer; the
// KubeletConfiguration nests four deep.
const maxConfigzDepth = 32

// ReadConfigz reads a kubelet's /configz answer, {"kubeletconfig": {...}}:
// the KubeletConfiguration (v1beta1 field names) the kubelet runs with,
// its defaults applied and the flags bound to its fields merged (the
// kubelet re-parses its command line over the file before it registers
// configz). --seccomp-default is not among them: it is a KubeletFlags
// field the kubelet ORs with seccompDefault, so a false seccompDefault
// here is not judged (Unjudged). node is the Node's name. A
// field the answer leaves out is at its zero value: the kubelet encodes
// its configuration with omitempty, after defaulting.
func ReadConfigz(node string, data []byte) (*KubeletNode, error) {
	if len(data) > MaxConfigzSize {
		return nil, fmt.Errorf("configz answer larger than %d bytes", MaxConfigzSize)
	}
	if err := jsonDepth(data, maxConfigzDepth); err != nil {
		return nil, fmt.Errorf("configz answer: %w", err)
	}
	var top map[string]json.RawMessage
	if err := strictJSON(data, &top); err != nil {
		return nil, fmt.Errorf("configz answer: %w", err)
	}
	raw, ok := top["kubeletconfig"]
	if !ok {
		return nil, errors.New("configz answer holds no kubeletconfig")
	}
	var kc map[string]any
	if err := strictJSON(raw, &kc); err != nil || kc == nil {
		return nil, errors.New("configz answer: kubeletconfig is not an object")
	}
	// The kubelet sets the kind of what it serves (setConfigz in
	// k8s.io/kubernetes cmd/kubelet/app/server.go); anything else of
	// that name is not its configuration.
	if k, ok := kc["kind"]; ok && k != "KubeletConfiguration" {
		return nil, errors.New("configz answer: kubeletconfig is not a KubeletConfiguration")
	}
	if v, ok := kc["apiVersion"]; ok && v != "kubelet.config.k8s.io/v1beta1" && v != "kubelet.config.k8s.io/v1" {
		return nil, errors.New("configz answer: kubeletconfig is not of apiVersion kubelet.config.k8s.io/v1beta1")
	}
	cfg := &KubeletConfig{Loc: finding.Location{File: "kubeletconfig"}, Fields: map[string]Setting{}}
	paths := kubeletConfigPaths()
	slices.Sort(paths)
	for _, path := range paths {
		v, err := lookupJSON(kc, path)
		if err != nil {
			return nil, fmt.Errorf("configz answer: kubeletconfig.%s: %w", path, err)
		}
		var s string
		switch x := v.(type) {
		case nil:
			s = zeroOf(path)
		case bool:
			s = strconv.FormatBool(x)
		case json.Number:
			s = x.String()
		case string:
			s = x
			if durationFields[path] {
				d, err := time.ParseDuration(x)
				if err != nil {
					return nil, fmt.Errorf("configz answer: kubeletconfig.%s: not a duration", path)
				}
				s = d.String()
			}
		case []any:
			parts := make([]string, 0, len(x))
			for _, it := range x {
				p, isString := it.(string)
				if !isString {
					return nil, fmt.Errorf("configz answer: kubeletconfig.%s: not a list of strings", path)
				}
				parts = append(parts, p)
			}
			s = strings.Join(parts, ",")
		default:
			return nil, fmt.Errorf("configz answer: kubeletconfig.%s: not a value", path)
		}
		cfg.Fields[path] = Setting{Name: path, Value: s, Origin: FromRunning,
			Loc: finding.Location{File: "kubeletconfig." + path}, Component: Kubelet}
	}
	return &KubeletNode{Config: cfg, Node: node}, nil
}

// strictJSON decodes one JSON value, numbers kept as written, and refuses
// anything after it.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// jsonDepth refuses JSON nested deeper than max, before it is decoded
// (encoding/json alone allows 10,000 levels).
func jsonDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return fmt.Errorf("nested deeper than %d levels", max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// lookupJSON returns the value at a dotted path of a decoded object; nil
// when a key of the path is missing or null.
func lookupJSON(m map[string]any, path string) (any, error) {
	keys := strings.Split(path, ".")
	var cur any = m
	for i, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", strings.Join(keys[:i], "."))
		}
		if cur, ok = obj[k]; !ok || cur == nil {
			return nil, nil
		}
	}
	return cur, nil
}

// zeroOf is the zero value of a KubeletConfiguration field, as its
// default's kind says it: what an answer that leaves the field out runs
// with.
func zeroOf(path string) string {
	d := KubeletConfigDefaults[path]
	switch {
	case durationFields[path]:
		return "0s"
	case d == "true" || d == "false":
		return "false"
	}
	if _, ok := atoi(d); ok {
		return "0"
	}
	return ""
}

// Remote makes the node of a cluster read through the API, from the
// command lines of its mirror pods and its kubelet (nil when it could not
// be read).
func Remote(components []*CommandLine, kubelet *KubeletNode) *Node {
	n := newNode(Host{})
	n.Remote = true
	n.Components = components
	n.Kubelet = kubelet
	// Findings name their container by a lookup, not a search of the
	// components: a node with many mirror pods costs no more per finding.
	n.containers = make(map[containerKey]string, len(components))
	for _, c := range components {
		if c.Container != "" {
			n.containers[containerKey{c.Ref, c.Loc.File}] = c.Container
		}
	}
	return n
}

// fileFlags are the flags of a component naming a file whose content a
// check judges: on a node read through the API they are not judged.
var fileFlags = map[string][]struct{ flag, what string }{
	APIServer: {
		{"encryption-provider-config", "encryption at rest (the EncryptionConfiguration's providers)"},
		{"authorization-config", "the authorizers of the AuthorizationConfiguration"},
		{"audit-policy-file", "the audit policy's rules"},
		{"admission-control-config-file", "the PodSecurity defaults of the AdmissionConfiguration"},
	},
	// With --config the scheduler ignores --profiling: its profiling is
	// the file's enableProfiling, which only the node holds.
	Scheduler: {
		{"config", "profiling (the KubeSchedulerConfiguration's enableProfiling; --profiling is ignored when --config is given)"},
	},
}

// Unjudged says what the checks could not judge on a node read through the
// API: the contents of the files its components name, which are on the
// node. `kubeguard node` on the node (the node-scanner DaemonSet) judges
// them, and the permissions, certificates and kubeconfigs a remote read
// never sees.
func Unjudged(n *Node) []string {
	if !n.Remote {
		return nil
	}
	var out []string
	if k := n.Kubelet; k != nil {
		for _, flag := range KubeletORedFlags() {
			if s := k.Setting(flag); unjudgedThroughAPI(n, flag, s) {
				out = append(out, fmt.Sprintf("%s: kubeletconfig.%s is %s, but the kubelet ORs it with --%s, which /configz does not show: not judged through the API (run kubeguard node there)", k.Ref(), s.Name, s.Value, flag))
			}
		}
	}
	for _, c := range n.Components {
		for _, f := range fileFlags[c.Component] {
			if a, ok := c.Lookup(f.flag); ok && a.Value != "" {
				out = append(out, fmt.Sprintf("%s: --%s=%s is a file on the node: %s not judged through the API (run kubeguard node there)", c.Ref, f.flag, a.Value, f.what))
			}
		}
	}
	return out
}

// remoteFinding moves a remote node's location, a field path, to the
// finding's Path, and names the container it is in.
func remoteFinding(n *Node, f *finding.Finding) {
	path := f.Location.File
	f.Location, f.Path = finding.Location{}, path
	prefix := path
	if i := strings.IndexByte(path, ']'); i >= 0 {
		prefix = path[:i+1]
	}
	if name, ok := n.containers[containerKey{f.Object, prefix}]; ok {
		f.Containers = []string{name}
	}
}

// containerKey names a container of a pod by its field path
// (spec.containers[0]).
type containerKey struct {
	ref  finding.ObjectRef
	path string
}
