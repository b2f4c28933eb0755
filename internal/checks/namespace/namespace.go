// Package namespace holds the checks of a namespace's own security
// configuration: the Pod Security Admission labels it carries, the
// NetworkPolicies that isolate its pods, and the ResourceQuota and
// LimitRange that bound what it may hold.
//
// Most of these checks judge a namespace by other objects (its
// NetworkPolicies, its quota), and the scan sees only what it is given. So
// they report only on namespaces the input declares as Namespace objects:
// a scan that holds the Namespace is taken to hold the namespace's
// configuration, and a scan of a single Deployment says nothing about the
// policies of the namespace it lands in. Objects belong to a namespace by
// their metadata.namespace; an object that names none is counted in no
// declared namespace, since it lands wherever it is applied
// (pod-no-network-policy compares such objects with one another: applied
// together, they land together).
//
// Only the Kubernetes kinds count: NetworkPolicy of networking.k8s.io/v1,
// ResourceQuota and LimitRange of v1. A CNI's own policy kinds (Calico's
// NetworkPolicy, CiliumNetworkPolicy) are not read.
package namespace

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	PSSEnforce,
	PSSVersion,
	PSSLabelInvalid,
	DefaultDenyIngress,
	DefaultDenyEgress,
	PodNoNetworkPolicy,
	ResourceQuota,
	LimitRange,
}

// namespaceKind is the kind every check of a namespace runs on.
const namespaceKind = "Namespace"

// isNamespace tells a core Namespace from a custom kind of the same name.
func isNamespace(o *object.Object) bool {
	return o.Ref.APIVersion == "v1" && o.Ref.Kind == namespaceKind
}

// declaredNamespace returns the Namespace object named ns, or nil when the
// input does not declare it.
func declaredNamespace(ctx *check.Context, ns string) *object.Object {
	if ns == "" {
		return nil
	}
	if o := ctx.Lookup(namespaceKind, "", ns); o != nil && isNamespace(o) {
		return o
	}
	return nil
}

// objectsIn returns the indexed objects of apiVersion and kind in namespace
// ns.
func objectsIn(ctx *check.Context, apiVersion, kind, ns string) []*object.Object {
	var out []*object.Object
	for _, o := range ctx.List(kind) {
		if o.Ref.APIVersion == apiVersion && o.Ref.Namespace == ns {
			out = append(out, o)
		}
	}
	return out
}

// namePath is where a finding about a whole namespace points.
var namePath = object.Path{}.Keys("metadata", "name")

// labelPath is the path of one label, present or not.
func labelPath(label string) object.Path {
	return object.Path{}.Keys("metadata", "labels", label)
}

func quote(s string) string { return strconv.Quote(s) }
