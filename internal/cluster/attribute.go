package cluster

import (
	"sync"

	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/apimachinery/pkg/types"
)

// Owners attributes objects to what a user edits: a pod created by a
// ReplicaSet created by a Deployment belongs to the Deployment, a Job
// created by a CronJob to the CronJob. Controllers must be added before
// what they own (Workloads is in that order). It holds one entry per
// controller and a pod count per top owner, never the pods.
type Owners struct {
	mu   sync.Mutex
	top  map[types.UID]finding.ObjectRef
	pods map[finding.ObjectRef]int
}

// NewOwners returns an empty attribution.
func NewOwners() *Owners {
	return &Owners{top: map[types.UID]finding.ObjectRef{}, pods: map[finding.ObjectRef]int{}}
}

// Add records a listed object with reference ref. When its controller was
// added before, it returns the controller's top owner and true: the object
// is then reported through its owner and need not be checked itself.
// Otherwise the object is its own top owner.
func (o *Owners) Add(it *Item, ref finding.ObjectRef) (finding.ObjectRef, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	top, owned := ref, false
	if c := Controller(it.Meta); c != nil {
		if t, ok := o.top[c.UID]; ok {
			top, owned = t, true
		}
	}
	if it.Resource.Kind == Pods.Kind {
		o.pods[top]++
		return top, owned
	}
	if uid := it.Meta.GetUID(); uid != "" {
		o.top[uid] = top
	}
	return top, owned
}

// Pods is the number of running pods attributed to ref (itself, when ref
// is a pod).
func (o *Owners) Pods(ref finding.ObjectRef) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pods[ref]
}
