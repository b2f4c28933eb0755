package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// NodeLister lists what a live node scan reads from the API: the mirror
// pods of kube-system and the Nodes (cluster.Collector).
type NodeLister interface {
	MirrorPods(ctx context.Context, fn func(cluster.MirrorPod) error) error
	Each(ctx context.Context, r cluster.Resource, fn func(*cluster.Item) error) error
}

// ConfigzGetter reads a kubelet's /configz answer (cluster.NodeProxy).
type ConfigzGetter interface {
	Configz(ctx context.Context, node string) ([]byte, error)
}

// NodesResult is what a live node scan found.
type NodesResult struct {
	Findings []finding.Finding
	Objects  []report.Object
	// Errors are the nodes (or pods) that could not be read or judged.
	Errors []finding.InputError
	// Unjudged says what the API does not show (files on the nodes).
	Unjudged []string
	// Nodes is the number of nodes whose kubelet was judged.
	Nodes int
}

// ScanNodes judges the control plane and kubelets of a live cluster with
// the checks of kubeguard node: the command lines of kube-system's mirror
// pods, and each kubelet's running configuration read through the API
// server's node proxy. The mirror pods' command lines are kept (a few per
// control-plane node); the nodes are then read and judged one at a time,
// so memory holds one kubelet's configuration whatever the cluster's size.
// A node that cannot be read is an error of the result, and the others
// are read all the same.
func ScanNodes(ctx context.Context, l NodeLister, proxy ConfigzGetter, cs []node.Check, filter *suppress.Filter, now time.Time) *NodesResult {
	res := &NodesResult{}
	if filter != nil {
		// The objects judged are command lines and configurations, not
		// API objects: annotations do not apply; exemptions, severity
		// overrides and the baseline do.
		f := *filter
		f.NoAnnotations = true
		filter = &f
	}
	fail := func(where, msg string) {
		res.Errors = append(res.Errors, finding.InputError{Location: finding.Location{File: where}, Message: msg})
	}
	byNode := map[string][]*node.CommandLine{}
	var order []string // nodes of mirror pods, first seen first
	err := l.MirrorPods(ctx, func(mp cluster.MirrorPod) error {
		cont := make([]node.Container, len(mp.Containers))
		for i, c := range mp.Containers {
			cont[i] = node.Container{Name: c.Name, Image: c.Image, Command: c.Command, Args: c.Args}
		}
		comps := node.MirrorPod(mp.Namespace, mp.Name, cont)
		if len(comps) == 0 {
			return nil
		}
		if _, seen := byNode[mp.Node]; !seen {
			order = append(order, mp.Node)
		}
		byNode[mp.Node] = append(byNode[mp.Node], comps...)
		return nil
	})
	if err != nil {
		fail("cluster", fmt.Sprintf("control-plane static pods not judged: %v", err))
	}
	judge := func(n *node.Node) {
		fs, errs := node.Evaluate(n, cs, node.Options{Now: now})
		if filter != nil {
			filter.Apply(nil, fs)
		}
		res.Findings = append(res.Findings, fs...)
		res.Errors = append(res.Errors, errs...)
		res.Unjudged = append(res.Unjudged, node.Unjudged(n)...)
		for _, c := range n.Components {
			res.Objects = append(res.Objects, report.Object{Ref: c.Ref})
		}
		if n.Kubelet != nil {
			res.Objects = append(res.Objects, report.Object{Ref: n.Kubelet.Ref()})
		}
	}
	err = l.Each(ctx, cluster.Nodes, func(it *cluster.Item) error {
		name := it.Meta.GetName()
		comps := byNode[name]
		delete(byNode, name)
		var kubelet *node.KubeletNode
		data, err := proxy.Configz(ctx, name)
		if err == nil {
			kubelet, err = node.ReadConfigz(name, data)
			if err != nil {
				err = fmt.Errorf("node %s: %w", name, err)
			}
		}
		if err != nil {
			msg := err.Error()
			var ne *cluster.NodeError
			if errors.As(err, &ne) && ne.Status != 403 && !cluster.NodeReady(it) {
				msg += " (the Node is not Ready)"
			}
			fail("node/"+name, "kubelet not judged: "+strings.TrimPrefix(msg, "node "+name+": "))
		} else {
			res.Nodes++
		}
		judge(node.Remote(comps, kubelet))
		return nil
	})
	if err != nil {
		var w *cluster.Warning
		if errors.As(err, &w) {
			err = w // says which permission would let them in
		}
		fail("cluster", fmt.Sprintf("kubelets not judged: %v", err))
	}
	// Mirror pods of nodes not listed (deleted meanwhile, or the nodes
	// could not be listed): their command lines are judged alone.
	for _, name := range order {
		if comps, ok := byNode[name]; ok {
			judge(node.Remote(comps, nil))
		}
	}
	slices.SortFunc(res.Objects, func(a, b report.Object) int { return compareRefs(a.Ref, b.Ref) })
	return res
}

// AddTo adds the nodes' results to a live scan's report, in the report's
// order: by object (namespace, kind, name), then check and path.
func (res *NodesResult) AddTo(r *report.Report) {
	r.Objects = append(r.Objects, res.Objects...)
	slices.SortFunc(r.Objects, func(a, b report.Object) int { return compareLive(a.Ref, b.Ref) })
	r.Objects = slices.CompactFunc(r.Objects, func(a, b report.Object) bool { return a.Ref == b.Ref })
	r.Findings = append(r.Findings, res.Findings...)
	slices.SortStableFunc(r.Findings, func(a, b finding.Finding) int {
		return cmp.Or(compareLive(a.Object, b.Object), cmp.Compare(a.CheckID, b.CheckID), cmp.Compare(a.Path, b.Path))
	})
	r.Errors = append(r.Errors, res.Errors...)
}

// compareLive orders objects as a live scan's report does.
func compareLive(a, b finding.ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
}

func compareRefs(a, b finding.ObjectRef) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}
