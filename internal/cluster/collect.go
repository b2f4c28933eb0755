package cluster

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is one resource type the collector lists.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	// MetadataOnly lists the objects' metadata and nothing else, through
	// the metadata client (PartialObjectMetadata): Secrets.
	MetadataOnly bool
	// FieldSelector narrows the list on the server (running pods only).
	FieldSelector string
}

// APIVersion is the resource's group/version as objects spell it.
func (r Resource) APIVersion() string { return r.GVR.GroupVersion().String() }

// String names the resource as kubectl does: deployments.apps.
func (r Resource) String() string {
	if r.GVR.Group == "" {
		return r.GVR.Resource
	}
	return r.GVR.Resource + "." + r.GVR.Group
}

func res(group, version, resource, kind string, namespaced bool) Resource {
	return Resource{GVR: schema.GroupVersionResource{Group: group, Version: version, Resource: resource}, Kind: kind, Namespaced: namespaced}
}

// The resources kubeguard reads.
var (
	Namespaces          = res("", "v1", "namespaces", "Namespace", false)
	Pods                = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod", Namespaced: true, FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"}
	ServiceAccounts     = res("", "v1", "serviceaccounts", "ServiceAccount", true)
	Services            = res("", "v1", "services", "Service", true)
	ResourceQuotas      = res("", "v1", "resourcequotas", "ResourceQuota", true)
	LimitRanges         = res("", "v1", "limitranges", "LimitRange", true)
	ReplicationControls = res("", "v1", "replicationcontrollers", "ReplicationController", true)
	Secrets             = Resource{GVR: schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, Kind: "Secret", Namespaced: true, MetadataOnly: true}
	// TokenSecrets are the legacy ServiceAccount token Secrets, listed
	// apart (metadata only, by type on the server) because metadata does
	// not carry a Secret's type.
	TokenSecrets        = Resource{GVR: Secrets.GVR, Kind: "Secret", Namespaced: true, MetadataOnly: true, FieldSelector: "type=kubernetes.io/service-account-token"}
	Deployments         = res("apps", "v1", "deployments", "Deployment", true)
	ReplicaSets         = res("apps", "v1", "replicasets", "ReplicaSet", true)
	StatefulSets        = res("apps", "v1", "statefulsets", "StatefulSet", true)
	DaemonSets          = res("apps", "v1", "daemonsets", "DaemonSet", true)
	Jobs                = res("batch", "v1", "jobs", "Job", true)
	CronJobs            = res("batch", "v1", "cronjobs", "CronJob", true)
	NetworkPolicies     = res("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true)
	Ingresses           = res("networking.k8s.io", "v1", "ingresses", "Ingress", true)
	Roles               = res("rbac.authorization.k8s.io", "v1", "roles", "Role", true)
	ClusterRoles        = res("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false)
	RoleBindings        = res("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true)
	ClusterRoleBindings = res("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false)
	CRDs                = res("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false)
)

// Workloads are the pod controllers, owners before what they own: a
// CronJob before its Jobs, a Deployment before its ReplicaSets, so that
// attribution finds each owner already seen.
var Workloads = []Resource{CronJobs, Deployments, StatefulSets, DaemonSets, ReplicationControls, ReplicaSets, Jobs}

// RBAC are the resources the RBAC analysis reads besides workloads.
var RBAC = []Resource{ClusterRoles, Roles, ClusterRoleBindings, RoleBindings, ServiceAccounts, TokenSecrets, CRDs}

// Lister lists one page of a resource's objects. The dynamic client
// implements it (Clients.List); tests give a fake.
type Lister interface {
	List(ctx context.Context, r Resource, namespace string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error)
}

// MetadataLister lists one page of a resource's objects' metadata only.
type MetadataLister interface {
	ListMetadata(ctx context.Context, r Resource, namespace string, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
}

// List implements Lister with the dynamic client.
func (c *Clients) List(ctx context.Context, r Resource, namespace string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	if r.Namespaced {
		return c.Dynamic.Resource(r.GVR).Namespace(namespace).List(ctx, opts)
	}
	return c.Dynamic.Resource(r.GVR).List(ctx, opts)
}

// ListMetadata implements MetadataLister with the metadata client, which
// asks for PartialObjectMetadataList: the server sends no data, spec or
// status.
func (c *Clients) ListMetadata(ctx context.Context, r Resource, namespace string, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	if r.Namespaced {
		return c.Metadata.Resource(r.GVR).Namespace(namespace).List(ctx, opts)
	}
	return c.Metadata.Resource(r.GVR).List(ctx, opts)
}

// Warning is a resource type that could not be read, or not all at one
// point in time, for a reason that leaves the rest of the results valid:
// not allowed, not served, or listed across an expired continue token.
type Warning struct {
	Resource Resource
	Err      error
}

// Listed reports whether the resource's objects were listed all the same.
func (w Warning) Listed() bool { return apierrors.IsResourceExpired(w.Err) }

// Error says what was left out and why, and what would let it in.
func (w Warning) Error() string {
	switch {
	case apierrors.IsForbidden(w.Err):
		return fmt.Sprintf("cannot list %s (forbidden): results leave them out; grant list on them to the scanner's identity", w.Resource)
	case apierrors.IsNotFound(w.Err), apierrors.IsMethodNotSupported(w.Err):
		return fmt.Sprintf("%s are not served by this cluster: results leave them out", w.Resource)
	case w.Listed():
		return fmt.Sprintf("listing %s took longer than the API server keeps a list's snapshot, so it went on from the server's latest state: %s created or changed meanwhile may be missing or seen as they were", w.Resource, w.Resource)
	}
	return fmt.Sprintf("cannot list %s: %v", w.Resource, w.Err)
}

// partial reports whether an error only takes one resource type out of
// the results.
func partial(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err)
}

// Item is one listed object.
type Item struct {
	Resource Resource
	// Meta is the object's metadata as the server sent it (owner
	// references, UID), before Object drops what checks do not read.
	Meta metav1.Object
	// Raw is the object's content, nil for metadata-only resources.
	Raw map[string]any
}

// Collector lists resources page by page. Memory holds one page at a time.
type Collector struct {
	Lister   Lister
	Metadata MetadataLister
	// Namespace restricts namespaced resources to one namespace; empty
	// means all.
	Namespace string
	// PageSize is the Limit of each list call; 500 when zero, as kubectl.
	PageSize int64
	// Progress, when set, is told after each page how many objects of the
	// resource have been read.
	Progress func(r Resource, n int)
}

// DefaultPageSize is kubectl's chunk size.
const DefaultPageSize = 500

// Each lists every object of r and calls fn for each, page by page. The
// next page is fetched while fn handles the current one, so the API
// server's time and kubeguard's overlap; at most two pages are held. A
// resource the identity may not list, or that the cluster does not serve,
// yields a *Warning and no objects; a list whose continue token expires
// part way goes on from the server's latest state and yields a *Warning
// after all its objects; other errors are returned as they are, after the
// objects already handed on.
func (c *Collector) Each(ctx context.Context, r Resource, fn func(*Item) error) error {
	size := c.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	ns := ""
	if r.Namespaced {
		ns = c.Namespace
	}
	opts := metav1.ListOptions{Limit: size, FieldSelector: r.FieldSelector}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := c.fetch(ctx, r, ns, opts)
	n := 0
	var expired error
	for page := 0; ; page++ {
		p := <-next
		if p.err != nil {
			if page == 0 && partial(p.err) {
				return &Warning{Resource: r, Err: p.err}
			}
			// A list slower than the server keeps its snapshot (a few
			// minutes) loses its continue token. The server then hands
			// out one that goes on from its latest state: the objects
			// still to come are all listed, as they are now.
			if tok := inconsistentContinue(p.err); tok != "" && expired == nil {
				expired, opts.Continue = p.err, tok
				next = c.fetch(ctx, r, ns, opts)
				continue
			}
			return fmt.Errorf("list %s: %w", r, p.err)
		}
		if p.cont != "" {
			opts.Continue = p.cont
			next = c.fetch(ctx, r, ns, opts)
		}
		for i, it := range p.items {
			n++
			if err := fn(it); err != nil {
				return err
			}
			p.items[i] = nil // the page holds only what is still to come
		}
		if c.Progress != nil {
			c.Progress(r, n)
		}
		if p.cont == "" {
			if expired != nil {
				return &Warning{Resource: r, Err: expired}
			}
			return nil
		}
	}
}

// inconsistentContinue returns the continue token a 410 answer to an
// expired one carries, if it does.
func inconsistentContinue(err error) string {
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Reason != metav1.StatusReasonExpired {
		return ""
	}
	return se.ErrStatus.Continue
}

// page is one fetched page.
type page struct {
	items []*Item
	cont  string
	err   error
}

// fetch lists one page in the background.
func (c *Collector) fetch(ctx context.Context, r Resource, ns string, opts metav1.ListOptions) <-chan page {
	ch := make(chan page, 1)
	go func() {
		var p page
		if r.MetadataOnly {
			if c.Metadata == nil {
				p.err = errors.New("no metadata client")
			} else if l, err := c.Metadata.ListMetadata(ctx, r, ns, opts); err != nil {
				p.err = err
			} else {
				p.items, p.cont = make([]*Item, len(l.Items)), l.Continue
				for i := range l.Items {
					p.items[i] = &Item{Resource: r, Meta: &l.Items[i].ObjectMeta}
				}
			}
		} else if l, err := c.Lister.List(ctx, r, ns, opts); err != nil {
			p.err = err
		} else {
			p.items, p.cont = make([]*Item, len(l.Items)), l.GetContinue()
			for i := range l.Items {
				// A copy (of the header; the content is shared), so that
				// each object's content is freed once it is checked, not
				// when its whole page is.
				u := l.Items[i]
				p.items[i] = &Item{Resource: r, Meta: &u, Raw: u.Object}
			}
		}
		ch <- p
	}()
	return ch
}
