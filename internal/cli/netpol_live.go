package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
)

// loadNetpolLive reads the Namespaces, running Pods (labels, container
// ports, addresses) and NetworkPolicies of a live cluster, read-only and
// page by page. A resource that cannot be listed is an error, not a
// warning: without it every answer could be wrong.
func loadNetpolLive(ctx context.Context, o *NetpolOptions, stderr io.Writer) (*netpolInput, error) {
	clients, err := o.Connect.connect(o.wrap)
	if err != nil {
		return nil, err
	}
	col := &cluster.Collector{Lister: clients, Metadata: clients}
	prog := newProgress(stderr)
	col.Progress = prog.update
	defer prog.done()
	s := &liveScan{col: col}
	var in netpol.Input
	add := func(it *cluster.Item) error {
		switch it.Resource {
		case cluster.Namespaces:
			in.Add(netpol.Decoded{Namespace: &netpol.Namespace{Name: it.Meta.GetName(), Labels: it.Meta.GetLabels()}})
		case cluster.Pods:
			var p corev1.Pod
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(it.Raw, &p); err != nil {
				s.fail(refOf(it), fmt.Errorf("decode: %w", err))
				return nil
			}
			w, err := netpol.PodWorkload(&p)
			if err != nil {
				s.fail(refOf(it), err)
				return nil
			}
			in.Add(netpol.Decoded{Workload: w})
		case cluster.NetworkPolicies:
			var np networkingv1.NetworkPolicy
			if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(it.Raw, &np); err != nil {
				s.fail(refOf(it), fmt.Errorf("decode: %w", err))
				return nil
			}
			p := netpol.PolicyOf(&np)
			p.Source = finding.Location{File: "cluster"}
			in.Add(netpol.Decoded{Policy: p})
		}
		return nil
	}
	for _, r := range []cluster.Resource{cluster.Namespaces, cluster.Pods, cluster.NetworkPolicies} {
		s.each(ctx, r, add)
	}
	out := &netpolInput{errors: s.errors}
	for _, w := range s.warnings {
		out.errors = append(out.errors, finding.InputError{Location: finding.Location{File: "cluster"}, Message: w.Error()})
	}
	n, errs := in.Build()
	out.net, out.errors = n, append(out.errors, errs...)
	return out, nil
}
