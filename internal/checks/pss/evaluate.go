// Package pss reports Pod Security Standards violations. The verdicts are
// those of the upstream library k8s.io/pod-security-admission/policy, the
// code the API server runs; this package adds check IDs, field paths, source
// positions, remediation, and what Pod Security Admission would do given the
// namespace labels found in the same input.
package pss

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Result is one upstream check's verdict on a pod.
type Result struct {
	ID     policy.CheckID
	Reason string
	Detail string
}

// Evaluator runs the upstream checks and tells which check each verdict
// belongs to.
//
// The upstream evaluator returns verdicts in an order it derives per level
// and version (sorted IDs, baseline first, overridden checks dropped), but
// not their IDs. A second evaluator, built from the same checks with each
// check function replaced by one that answers with its own ID, runs once
// per level and version and yields that order; the verdicts of the real
// evaluator are then matched by position. Both are built by the upstream
// registry code, so the order is upstream's by construction.
type Evaluator struct {
	real, probe policy.Evaluator
	order       sync.Map // api.LevelVersion -> []policy.CheckID
	notes       sync.Map // noteKey -> admission note
	checks      map[policy.CheckID]policy.Check
}

// NewEvaluator builds an evaluator of the default upstream checks, those the
// API server enforces.
func NewEvaluator() (*Evaluator, error) {
	checks := policy.DefaultChecks()
	real, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		return nil, err
	}
	probes := make([]policy.Check, len(checks))
	byID := map[policy.CheckID]policy.Check{}
	for i, c := range checks {
		byID[c.ID] = c
		p := c
		p.Versions = make([]policy.VersionedCheck, len(c.Versions))
		for j, v := range c.Versions {
			id := string(c.ID)
			v.CheckPod = func(*metav1.ObjectMeta, *corev1.PodSpec) policy.CheckResult {
				return policy.CheckResult{ForbiddenReason: id}
			}
			p.Versions[j] = v
		}
		probes[i] = p
	}
	probe, err := policy.NewEvaluator(probes, nil)
	if err != nil {
		return nil, err
	}
	return &Evaluator{real: real, probe: probe, checks: byID}, nil
}

func (e *Evaluator) ids(lv api.LevelVersion) []policy.CheckID {
	if v, ok := e.order.Load(lv); ok {
		return v.([]policy.CheckID)
	}
	var ids []policy.CheckID
	for _, r := range e.probe.EvaluatePod(lv, &metav1.ObjectMeta{}, &corev1.PodSpec{}) {
		ids = append(ids, policy.CheckID(r.ForbiddenReason))
	}
	e.order.Store(lv, ids)
	return ids
}

// Evaluate returns the failed checks for a pod at a level and version.
func (e *Evaluator) Evaluate(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []Result {
	results := e.real.EvaluatePod(lv, meta, spec)
	ids := e.ids(lv)
	if len(ids) != len(results) {
		// The registry answered differently for the same level and
		// version: a bug in this adapter, never a verdict to guess at.
		panic(fmt.Sprintf("pss: %d verdicts but %d check IDs at %s", len(results), len(ids), lv))
	}
	var failed []Result
	for i, r := range results {
		if !r.Allowed {
			reason := r.ForbiddenReason
			if reason == "" {
				reason = policy.UnknownForbiddenReason
			}
			failed = append(failed, Result{ID: ids[i], Reason: reason, Detail: r.ForbiddenDetail})
		}
	}
	return failed
}

// Pod returns a function evaluating one pod at a level and version, which
// runs the upstream checks once per distinct level and version however
// often it is asked: a pod in a labelled namespace is judged at the scan's
// level and at its namespace's enforce, audit and warn levels, which are
// often the same. The results it returns are shared; do not modify them.
func (e *Evaluator) Pod(meta *metav1.ObjectMeta, spec *corev1.PodSpec) func(api.LevelVersion) []Result {
	type entry struct {
		lv      api.LevelVersion
		results []Result
	}
	var done []entry // a few: scan, enforce, audit, warn, and baseline beside restricted
	return func(lv api.LevelVersion) []Result {
		for _, d := range done {
			if d.lv == lv {
				return d.results
			}
		}
		r := e.Evaluate(lv, meta, spec)
		done = append(done, entry{lv, r})
		return r
	}
}

// Checks returns the upstream checks by ID.
func (e *Evaluator) Checks() map[policy.CheckID]policy.Check { return e.checks }
