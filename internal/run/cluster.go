package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// ClusterResult is what a live scan found.
type ClusterResult struct {
	Report    *report.Report
	Readiness []NamespaceReadiness
	// Warnings are resource types left out of the results.
	Warnings []error
	// Listed is the number of resource types read.
	Listed int
	// Unreachable is the first failure to connect to the API server, if
	// any: with Listed 0, the server could not be reached at all.
	Unreachable error
}

// contextKinds maps the kinds checks read across the input to the
// resources that hold them. Kinds not listed here (cert-manager's
// Certificate) are not read from a cluster.
var contextKinds = map[string]cluster.Resource{
	"Namespace":     cluster.Namespaces,
	"NetworkPolicy": cluster.NetworkPolicies,
	"ResourceQuota": cluster.ResourceQuotas,
	"LimitRange":    cluster.LimitRanges,
	"Secret":        cluster.Secrets,
}

// liveScan is the state of one scan of a cluster.
type liveScan struct {
	col     *cluster.Collector
	owners  *cluster.Owners
	ready   *Readiness
	builder rbac.Builder
	// pods summarises the pods and workload templates listed, for the
	// checks of NetworkPolicies; nil when none needs it.
	pods *netpol.Pods

	mu       sync.Mutex
	objects  []report.Object
	findings []finding.Finding
	errors   []finding.InputError
	warnings []error
	listed   int // resource types read
	// unreachable is the first failure to connect to the API server.
	unreachable error
}

// each lists r and hands every object to fn; a resource left out becomes
// a warning, any other failure an error of the report.
func (s *liveScan) each(ctx context.Context, r cluster.Resource, fn func(*cluster.Item) error) {
	err := s.col.Each(ctx, r, fn)
	var w *cluster.Warning
	switch {
	case err == nil:
		s.listed++
	case errors.As(err, &w):
		s.warnings = append(s.warnings, w)
		if w.Listed() {
			s.listed++
		}
	default:
		s.mu.Lock()
		s.errors = append(s.errors, finding.InputError{Location: finding.Location{File: "cluster"}, Message: err.Error()})
		if s.unreachable == nil && unreachable(err) {
			s.unreachable = err
		}
		s.mu.Unlock()
	}
}

// unreachable reports whether err says the API server could not be
// reached at all (refused, no route, unknown host, timed out dialling),
// as opposed to an answer the server gave.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) && op.Op == "dial" || errors.As(err, &dns)
}

func (s *liveScan) fail(ref finding.ObjectRef, err error) {
	s.mu.Lock()
	s.errors = append(s.errors, finding.InputError{Location: finding.Location{File: "cluster"}, Message: fmt.Sprintf("%s: %v", ref, err)})
	s.mu.Unlock()
}

func refOf(it *cluster.Item) finding.ObjectRef {
	return finding.ObjectRef{APIVersion: it.Resource.APIVersion(), Kind: it.Resource.Kind, Namespace: it.Meta.GetNamespace(), Name: it.Meta.GetName()}
}

// ScanCluster lists the cluster and runs the checks over every object, as
// Scan does over manifests: the kinds checks read across the input, and
// the RBAC objects, are listed first and kept; workloads and pods then
// stream through the engine page by page, on every worker, and are not
// kept (only a slim copy for the RBAC analysis of the workloads checked).
// Pods and workloads owned by a workload of the scan are not checked: their
// owner is, and its findings say how many running pods it has.
func ScanCluster(ctx context.Context, col *cluster.Collector, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter) *ClusterResult {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	eval, err := pss.NewEvaluator()
	s := &liveScan{col: col, owners: cluster.NewOwners()}
	if err != nil {
		s.errors = append(s.errors, finding.InputError{Message: fmt.Sprintf("pod security evaluator: %v", err)})
		return s.result(nil)
	}
	s.ready = NewReadiness(eval)

	// Context kinds: indexed for the checks, and checked themselves.
	var held []*object.Object
	needs := append([]string{"Namespace"}, collectKinds(check.Needs(cs))...)
	var listed []cluster.Resource
	for _, kind := range needs {
		r, ok := contextKinds[kind]
		if !ok || slices.Contains(listed, r) {
			continue
		}
		listed = append(listed, r)
		s.each(ctx, r, func(it *cluster.Item) error {
			if r == cluster.Namespaces && col.Namespace != "" && it.Meta.GetName() != col.Namespace {
				return nil
			}
			obj, err := cluster.Object(it)
			if err != nil {
				s.fail(refOf(it), err)
				return nil
			}
			held = append(held, obj)
			if r == cluster.Namespaces {
				s.ready.Namespace(obj.Ref.Name, obj.Labels)
			}
			return nil
		})
	}
	cctx := check.NewContext(opts, held)
	engine := check.NewEngine(cs, cctx)
	// Checks relating NetworkPolicies to the pods they select read a
	// summary of every pod and workload template, made as they stream by:
	// the policies are checked after them.
	var policies []*object.Object
	if slices.Contains(check.Needs(cs), check.PodTemplates) {
		held = slices.DeleteFunc(slices.Clone(held), func(o *object.Object) bool {
			if o.Ref.Kind == networkPolicyKind {
				policies = append(policies, o)
				return true
			}
			return false
		})
		if len(policies) > 0 {
			s.pods = netpol.NewPods()
		}
	}

	// The engine runs on every worker; the listing feeds them in order.
	type job struct {
		obj     *object.Object
		counted bool // a pod attributed to an owner: readiness only
		owner   finding.ObjectRef
		it      *cluster.Item
	}
	jobs := make(chan job, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				s.run(engine, filter, j.it, j.obj, j.owner, j.counted)
			}
		})
	}
	for _, obj := range held {
		jobs <- job{obj: obj}
	}

	// RBAC: kept whole in the policy, as the analysis needs them all.
	rbacObjects := map[finding.ObjectRef]*object.Object{}
	for _, r := range cluster.RBAC {
		s.each(ctx, r, func(it *cluster.Item) error {
			obj, err := cluster.Object(it)
			if err == nil {
				var typed bool
				if typed, err = addRBAC(&s.builder, it); err == nil && typed {
					s.addObject(obj)
					rbacObjects[obj.Ref] = obj
				} else if err == nil {
					s.builder.Add(obj)
				}
			}
			if err != nil {
				s.fail(refOf(it), err)
			}
			return nil
		})
	}
	for _, obj := range held {
		if obj.Ref.Kind == "Namespace" {
			s.builder.Add(obj)
		}
	}

	// Workloads, owners first, then pods: streamed, not kept.
	for _, r := range slices.Concat(cluster.Workloads, []cluster.Resource{cluster.Pods}) {
		s.each(ctx, r, func(it *cluster.Item) error {
			ref := refOf(it)
			top, owned := s.owners.Add(it, ref)
			if owned && r != cluster.Pods {
				return nil
			}
			if !owned {
				slim, err := cluster.Slim(it)
				if err == nil {
					s.builder.Add(slim)
				}
			}
			jobs <- job{it: it, owner: top, counted: owned}
			return nil
		})
	}
	for _, r := range []cluster.Resource{cluster.Services, cluster.Ingresses} {
		s.each(ctx, r, func(it *cluster.Item) error {
			jobs <- job{it: it}
			return nil
		})
	}
	close(jobs)
	wg.Wait()
	if s.pods != nil {
		cctx.SetPods(s.pods)
	}
	for _, obj := range policies {
		s.run(engine, filter, nil, obj, finding.ObjectRef{}, false)
	}

	policy := s.builder.Build()
	for _, f := range rbac.Risks(policy) {
		if col.Namespace != "" && f.Object.Namespace != col.Namespace {
			continue
		}
		// Annotations on a role or binding waive its RBAC findings, as
		// they do in manifests.
		if obj := rbacObjects[f.Object]; obj != nil && filter != nil {
			one := []finding.Finding{f}
			filter.Apply(obj, one)
			f = one[0]
		}
		s.findings = append(s.findings, f)
	}
	s.errors = append(s.errors, policy.Problems...)
	return s.result(cs)
}

// run checks one object, converting it first when it comes as a listed
// item. Pods are also judged for Pod Security readiness.
func (s *liveScan) run(engine *check.Engine, filter *suppress.Filter, it *cluster.Item, obj *object.Object, owner finding.ObjectRef, counted bool) {
	if obj == nil {
		var err error
		if obj, err = cluster.Object(it); err != nil {
			s.fail(refOf(it), err)
			return
		}
	}
	if obj.Ref.Kind == cluster.Pods.Kind {
		t, err := obj.PodTemplate()
		if err != nil {
			s.fail(obj.Ref, err)
			return
		}
		s.ready.Pod(obj.Ref.Namespace, owner, t)
		if s.pods != nil {
			s.pods.Add(obj.Ref.Namespace, t) // an error is the engine's to report
		}
		if counted {
			return
		}
	} else if s.pods != nil && it != nil {
		if t, err := obj.PodTemplate(); err == nil && t != nil {
			s.pods.Add(obj.Ref.Namespace, t)
		}
	}
	if s.col.Namespace != "" && obj.Ref.Namespace == "" && obj.Ref.Kind != "Namespace" {
		return
	}
	fs, err := engine.Run(obj)
	if filter != nil {
		filter.Apply(obj, fs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = append(s.objects, report.Object{Ref: obj.Ref})
	s.findings = append(s.findings, fs...)
	if err != nil {
		s.errors = append(s.errors, finding.InputError{Location: finding.Location{File: "cluster"}, Message: err.Error()})
	}
}

func (s *liveScan) addObject(obj *object.Object) {
	if s.col.Namespace != "" && obj.Ref.Namespace != s.col.Namespace {
		return
	}
	s.mu.Lock()
	s.objects = append(s.objects, report.Object{Ref: obj.Ref})
	s.mu.Unlock()
}

// result sorts what the scan found and says how many running pods each
// workload's findings concern.
func (s *liveScan) result(cs []check.Check) *ClusterResult {
	for i := range s.findings {
		f := &s.findings[i]
		switch f.Object.Kind {
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob":
			n := s.owners.Pods(f.Object)
			pods := fmt.Sprintf("%d running pods", n)
			if n == 1 {
				pods = "1 running pod"
			}
			if f.Detail != "" {
				f.Detail += " (" + pods + ")"
			} else {
				f.Detail = pods
			}
		}
	}
	cmpRef := func(a, b finding.ObjectRef) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	}
	slices.SortStableFunc(s.findings, func(a, b finding.Finding) int {
		return cmp.Or(cmpRef(a.Object, b.Object), cmp.Compare(a.CheckID, b.CheckID), cmp.Compare(a.Path, b.Path))
	})
	slices.SortFunc(s.objects, func(a, b report.Object) int { return cmpRef(a.Ref, b.Ref) })
	s.objects = slices.CompactFunc(s.objects, func(a, b report.Object) bool { return a.Ref == b.Ref })
	r := &report.Report{Checks: cs, Objects: s.objects, Findings: s.findings, Errors: s.errors}
	res := &ClusterResult{Report: r, Warnings: s.warnings, Listed: s.listed, Unreachable: s.unreachable}
	if s.ready != nil {
		res.Readiness = s.ready.Result()
		if ns := s.col.Namespace; ns != "" {
			res.Readiness = slices.DeleteFunc(res.Readiness, func(n NamespaceReadiness) bool { return n.Namespace != ns })
		}
	}
	return res
}
