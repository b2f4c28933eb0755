package run

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/object"
)

// LoadNetpol reads manifests with the scan loader into the network the
// connectivity analysis answers over, with the input's errors.
func LoadNetpol(ctx context.Context, paths []string, stdin io.Reader) (*netpol.Network, []finding.InputError) {
	var in netpol.Input
	var errs []finding.InputError
	src := &manifest.Source{Paths: paths, Stdin: stdin}
	readErrs := manifest.Ordered(ctx, src, 0, func(u manifest.Unit) []netpol.Decoded {
		ds := make([]netpol.Decoded, len(u.Objects))
		for i, obj := range u.Objects {
			ds[i] = netpol.Decode(obj)
			if ds[i].Err == nil && ds[i] != (netpol.Decoded{}) {
				// An object the analysis reads, held to kubectl apply's
				// strict field validation as scan holds manifests: a
				// misspelt selector must not read as no selector.
				if err := obj.CheckFields(); err != nil {
					ds[i].Err = fmt.Errorf("%s: %w", obj.Ref, err)
				}
			}
			if ds[i].Err != nil {
				ds[i].Err = finding.InputError{Location: object.ErrorLocation(ds[i].Err, obj.Source), Message: ds[i].Err.Error()}
			}
		}
		return ds
	}, func(u manifest.Unit, ds []netpol.Decoded) {
		// In input order: later definitions replace earlier ones.
		errs = append(errs, u.Errors...)
		for _, d := range ds {
			if d.Err != nil {
				errs = append(errs, d.Err.(finding.InputError))
				continue
			}
			in.Add(d)
		}
	})
	errs = append(readErrs, errs...)
	n, berrs := in.Build()
	return n, append(errs, berrs...)
}

// LoadNetpolLive reads the Namespaces, running Pods (labels, container
// ports, addresses) and NetworkPolicies of a live cluster, read-only and
// page by page. A resource that cannot be listed is an error, not a
// warning: without it every answer could be wrong.
func LoadNetpolLive(ctx context.Context, col *cluster.Collector) (*netpol.Network, []finding.InputError) {
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
	errs := s.errors
	for _, w := range s.warnings {
		errs = append(errs, finding.InputError{Location: finding.Location{File: "cluster"}, Message: w.Error()})
	}
	n, berrs := in.Build()
	return n, append(errs, berrs...)
}
