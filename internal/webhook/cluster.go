package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/kubeguard/kubeguard/internal/admission"
)

// Cluster is what the webhook reads from the API server: namespaces (from
// a cache) and, for the warnings about existing pods when a namespace's
// enforce level rises, a namespace's pods. Tests use a fake.
type Cluster interface {
	admission.NamespaceGetter
	admission.PodLister
	// HasSynced reports whether the namespace cache holds every namespace;
	// until then the webhook is not ready.
	HasSynced() bool
}

// InformerCluster is a Cluster over a client-go namespace informer. Pods
// are listed live, as the upstream webhook does: a pod cache would grow
// with the cluster for the sake of a rare namespace relabel.
type InformerCluster struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   corev1listers.NamespaceLister
}

// NewInformerCluster sets up the namespace informer; Start runs it.
func NewInformerCluster(client kubernetes.Interface) (*InformerCluster, error) {
	f := informers.NewSharedInformerFactory(client, 0)
	ns := f.Core().V1().Namespaces()
	inf := ns.Informer()
	// Only labels and names matter; dropping managed fields keeps the
	// cache small on clusters with many namespaces.
	if err := inf.SetTransform(func(obj any) (any, error) {
		if n, ok := obj.(*corev1.Namespace); ok {
			n.ManagedFields = nil
		}
		return obj, nil
	}); err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	return &InformerCluster{client: client, factory: f, informer: inf, lister: ns.Lister()}, nil
}

// LogListErrors logs at info level, on log, why the namespace cache cannot
// be filled (an API server that cannot be reached, a ServiceAccount that
// may not list namespaces): without it the only sign is a /readyz that
// stays unready. Errors the informer meets are logged as they come; the
// informer retries a refused connection silently, so until the cache has
// synced, every interval a list of one namespace asks the API server
// directly and a failure is logged. Call it before Start; it returns at
// once and logs until the cache syncs or ctx is done.
func (c *InformerCluster) LogListErrors(ctx context.Context, log *slog.Logger, interval time.Duration) error {
	err := c.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		log.Info("cannot list or watch namespaces; not ready until the API server answers", "error", err.Error())
	})
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if c.HasSynced() {
				return
			}
			lctx, cancel := context.WithTimeout(ctx, interval)
			_, err := c.client.CoreV1().Namespaces().List(lctx, metav1.ListOptions{Limit: 1})
			cancel()
			if err != nil && ctx.Err() == nil {
				log.Info("cannot list namespaces; not ready until the API server answers", "error", err.Error())
			}
		}
	}()
	return nil
}

// Start runs the informer until ctx is done.
func (c *InformerCluster) Start(ctx context.Context) { c.factory.Start(ctx.Done()) }

// HasSynced reports whether the namespace cache has synced.
func (c *InformerCluster) HasSynced() bool { return c.informer.HasSynced() }

// GetNamespace answers from the cache and asks the API server for a
// namespace the cache does not hold yet (created a moment ago), as the
// built-in plugin does.
func (c *InformerCluster) GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns, err := c.lister.Get(name)
	if err == nil || !apierrors.IsNotFound(err) {
		return ns, err
	}
	return c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
}

// ListPods lists a namespace's pods from the API server.
func (c *InformerCluster) ListPods(ctx context.Context, namespace string) ([]*corev1.Pod, error) {
	list, err := c.client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}
