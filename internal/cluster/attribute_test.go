package cluster

import (
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestOwners(t *testing.T) {
	yes := true
	item := func(r Resource, name, uid, owner string) (*Item, finding.ObjectRef) {
		m := &metav1.ObjectMeta{Name: name, Namespace: "n", UID: types.UID(uid)}
		if owner != "" {
			m.OwnerReferences = []metav1.OwnerReference{{UID: types.UID(owner), Controller: &yes}}
		}
		return &Item{Resource: r, Meta: m}, finding.ObjectRef{APIVersion: r.APIVersion(), Kind: r.Kind, Namespace: "n", Name: name}
	}
	o := NewOwners()
	steps := []struct {
		r                Resource
		name, uid, owner string
		wantTop          string
		wantOwned        bool
	}{
		{CronJobs, "cj", "u-cj", "", "cj", false},
		{Deployments, "d", "u-d", "", "d", false},
		{ReplicaSets, "rs", "u-rs", "u-d", "d", true},
		{ReplicaSets, "orphan-rs", "u-ors", "", "orphan-rs", false},
		{Jobs, "j", "u-j", "u-cj", "cj", true},
		{Pods, "p1", "u-p1", "u-rs", "d", true},
		{Pods, "p2", "u-p2", "u-rs", "d", true},
		{Pods, "p3", "u-p3", "u-j", "cj", true},
		{Pods, "p4", "u-p4", "u-ors", "orphan-rs", true},
		{Pods, "bare", "u-b", "", "bare", false},
		{Pods, "custom", "u-c", "u-unknown-controller", "custom", false},
	}
	refs := map[string]finding.ObjectRef{}
	for _, s := range steps {
		it, ref := item(s.r, s.name, s.uid, s.owner)
		refs[s.name] = ref
		top, owned := o.Add(it, ref)
		if top != refs[s.wantTop] || owned != s.wantOwned {
			t.Errorf("%s: top %v owned %v, want %s %v", s.name, top, owned, s.wantTop, s.wantOwned)
		}
	}
	for name, want := range map[string]int{"d": 2, "cj": 1, "orphan-rs": 1, "bare": 1, "custom": 1, "rs": 0} {
		if got := o.Pods(refs[name]); got != want {
			t.Errorf("%s: %d pods, want %d", name, got, want)
		}
	}
}
