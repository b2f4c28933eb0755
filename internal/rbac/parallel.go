package rbac

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// workerCount is the number of goroutines an analysis asked for workers
// runs on: every core when workers <= 0.
func workerCount(workers int) int {
	if workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return workers
}

// forEach calls f(w, i) for every i in [0, n) on up to workerCount(workers)
// goroutines, w numbering the goroutine (0 <= w < workerCount(workers)):
// callers keep per-goroutine state, such as a memoizing analysis, in a
// slice indexed by w. Indexes are handed out in increasing order, so that
// jobs put first start first; f writes its results to slots of its own,
// which keeps the outcome independent of the scheduling. The risk and path
// analyses run on every core this way.
func forEach(n, workers int, f func(w, i int)) {
	workers = min(workerCount(workers), n)
	if workers <= 1 {
		for i := range n {
			f(0, i)
		}
		return
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(w, i)
			}
		})
	}
	wg.Wait()
}

// analyses are the per-goroutine analyses of one policy, made when first
// used.
type analyses struct {
	p     *Policy
	roles *roleTable
	ans   []*analysis
	// reach, when set, is what the risks know of the escalation graph;
	// it is read only, by every analysis.
	reach *reach
}

func newAnalyses(p *Policy, workers int) *analyses {
	return &analyses{p: p, roles: newRoleTable(p, workers), ans: make([]*analysis, workerCount(workers))}
}

// get returns goroutine w's analysis.
func (a *analyses) get(w int) *analysis {
	if a.ans[w] == nil {
		a.ans[w] = newAnalysis(a.p, a.roles)
		a.ans[w].reach = a.reach
	}
	return a.ans[w]
}
