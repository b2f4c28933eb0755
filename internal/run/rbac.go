package run

import (
	"context"
	"fmt"
	"io"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
)

// RBACGCPercent is the garbage collector's target during an rbac command.
// The rbac commands allocate mostly YAML trees, garbage once each document
// is decoded, while what stays live (the compact policy, then the findings)
// is a tenth of it and grows slowly: at the default target the collector
// runs a dozen times over 24,000 objects, for little CPU each but a tenth of
// the command's. Fewer collections cost peak memory instead, and each page
// of it a page fault: at four times the live data the CPU time is that of
// higher targets, with a tenth fewer faults than at five times
// (BENCHMARKS.md).
const RBACGCPercent = 300

// RBACInput is what an RBAC analysis read.
type RBACInput struct {
	// Live says the input is a cluster, which holds its built-in roles.
	Live bool
	// Policy is the input's policy: that of its first file set when it
	// has several (Views), with the problems and warnings of all.
	Policy *rbac.Policy
	// Views are the policies of the input's file sets (see rbac.View):
	// one, Policy, unless the input defines a name in separate file sets.
	Views   []rbac.View
	Objects []report.Object
	// Errors are unreadable input and invalid objects.
	Errors []finding.InputError
	// Warnings are resource types of a live cluster left out.
	Warnings []error
	// Listed is the number of resource types of a live cluster read, and
	// Unreachable the first failure to connect to its API server.
	Listed      int
	Unreachable error
}

// LoadRBAC reads manifests with the scan loader and builds the policy,
// with the API server's built-in roles and bindings first when defaults is
// set. Namespaced objects without a namespace are placed in namespace, as
// kubectl apply -n places them ("default" when empty).
func LoadRBAC(ctx context.Context, paths []string, stdin io.Reader, defaults bool, namespace string) (*RBACInput, error) {
	var b rbac.Builder
	b.Namespace = namespace
	if defaults {
		defs, err := rbac.Defaults()
		if err != nil {
			return nil, fmt.Errorf("built-in roles (--no-defaults leaves them out): %w", err)
		}
		b.AddDefaults(defs)
	}
	type unit struct {
		objs    []report.Object
		decoded []rbac.Decoded
	}
	in := &RBACInput{}
	src := &manifest.Source{Paths: paths, Stdin: stdin}
	readErrs := manifest.Ordered(ctx, src, 0, func(u manifest.Unit) unit {
		// Decoding is the costly part: done here, on every core. The
		// objects are not kept: what the analysis and its reports need of
		// them is in what Decode returns.
		objs := make([]report.Object, len(u.Objects))
		ds := make([]rbac.Decoded, len(u.Objects))
		for i, obj := range u.Objects {
			// Decoding first: it places objects without namespace (-n).
			ds[i] = rbac.DecodeIn(obj, namespace)
			objs[i] = report.Object{Ref: obj.Ref, Location: obj.Source}
		}
		return unit{objs, ds}
	}, func(u manifest.Unit, d unit) {
		// In input order, while later documents are still being read:
		// later definitions replace earlier ones.
		in.Errors = append(in.Errors, u.Errors...)
		in.Objects = append(in.Objects, d.objs...)
		for _, x := range d.decoded {
			b.AddDecoded(x)
		}
	})
	in.Errors = append(readErrs, in.Errors...)
	in.Views = b.Views()
	in.Policy = in.Views[0].Policy
	in.Errors = append(in.Errors, in.Policy.Problems...)
	return in, nil
}

// LoadRBACLive reads the RBAC state of a live cluster through the
// collector kubeguard cluster uses: roles, bindings, ServiceAccounts,
// legacy token Secrets (metadata only), CustomResourceDefinitions,
// namespaces, and a slim copy of every workload and running pod not owned
// by another workload.
func LoadRBACLive(ctx context.Context, col *cluster.Collector) *RBACInput {
	s := &liveScan{col: col, owners: cluster.NewOwners()}
	add := func(slim bool) func(*cluster.Item) error {
		return func(it *cluster.Item) error {
			conv := cluster.Object
			if slim {
				if _, owned := s.owners.Add(it, refOf(it)); owned {
					return nil
				}
				conv = cluster.Slim
			}
			obj, err := conv(it)
			if err == nil {
				var typed bool
				if typed, err = addRBAC(&s.builder, it); err == nil && !typed {
					s.builder.Add(obj)
				}
			}
			if err != nil {
				s.fail(refOf(it), err)
				return nil
			}
			s.objects = append(s.objects, report.Object{Ref: obj.Ref})
			return nil
		}
	}
	for _, r := range slices.Concat([]cluster.Resource{cluster.Namespaces}, cluster.RBAC) {
		s.each(ctx, r, add(false))
	}
	for _, r := range slices.Concat(cluster.Workloads, []cluster.Resource{cluster.Pods}) {
		s.each(ctx, r, add(true))
	}
	in := &RBACInput{Live: true, Policy: s.builder.Build(), Objects: s.objects, Errors: s.errors, Warnings: s.warnings, Listed: s.listed, Unreachable: s.unreachable}
	in.Views = []rbac.View{{Policy: in.Policy}}
	in.Errors = append(in.Errors, in.Policy.Problems...)
	return in
}

// addRBAC adds a role or binding to the policy as a typed value, and
// reports whether it was one. Typed input has no source position, which
// is what a live object is: the analysis then names no file or line.
func addRBAC(b *rbac.Builder, it *cluster.Item) (bool, error) {
	var in rbac.Input
	var dst any
	switch it.Resource {
	case cluster.Roles:
		in.Roles = make([]rbacv1.Role, 1)
		dst = &in.Roles[0]
	case cluster.ClusterRoles:
		in.ClusterRoles = make([]rbacv1.ClusterRole, 1)
		dst = &in.ClusterRoles[0]
	case cluster.RoleBindings:
		in.RoleBindings = make([]rbacv1.RoleBinding, 1)
		dst = &in.RoleBindings[0]
	case cluster.ClusterRoleBindings:
		in.ClusterRoleBindings = make([]rbacv1.ClusterRoleBinding, 1)
		dst = &in.ClusterRoleBindings[0]
	default:
		return false, nil
	}
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(it.Raw, dst); err != nil {
		return false, fmt.Errorf("decode: %w", err)
	}
	b.AddInput(in)
	return true, nil
}
