package webhook

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// budget is a weighted semaphore over the body bytes of the reviews in
// flight: a review holds its share from before its body is read until its
// worker is done with the decoded object, which is where the server's
// memory goes. Waiters are served in order, so that a large review is not
// starved by a stream of small ones.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	waiters []*budgetWaiter
	inUse   atomic.Int64 // used, for metrics without the lock
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// acquire takes n bytes, waiting until they are free or ctx is done.
func (b *budget) acquire(ctx context.Context, n int64) error {
	n = min(n, b.limit)
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.limit {
		b.used += n
		b.inUse.Store(b.used)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready: // granted meanwhile: give it back
			b.mu.Unlock()
			b.release(n)
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			// The head may have been the one that did not fit.
			b.grantLocked()
			b.mu.Unlock()
		}
		return context.Cause(ctx)
	}
}

// release gives n bytes back (n as passed to acquire).
func (b *budget) release(n int64) {
	n = min(n, b.limit)
	b.mu.Lock()
	b.used -= n
	b.grantLocked()
	b.mu.Unlock()
}

func (b *budget) grantLocked() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.limit {
		w := b.waiters[0]
		b.waiters = b.waiters[1:]
		b.used += w.n
		close(w.ready)
	}
	b.inUse.Store(b.used)
}

// workers run reviews apart from the request's goroutine, so that a
// review that overruns its timeout does not hold the answer, on goroutines
// that outlive a review: decoding an object grows a goroutine's stack to
// tens of kilobytes, and a fresh goroutine per review paid for that growth
// every time (a tenth of the server's CPU). A worker waits for the next
// review for a while and then exits, so they number what the load needs,
// and at most max run reviews at once: a review past its deadline keeps
// its slot until it notices, so such reviews cannot pile up.
type workers struct {
	jobs  chan func()
	slots chan struct{}
}

func newWorkers(max int) *workers {
	return &workers{jobs: make(chan func()), slots: make(chan struct{}, max)}
}

// workerIdle is how long a worker waits for another review.
const workerIdle = 30 * time.Second

// do runs f on a worker once one of the max slots is free, or reports
// false when ctx is done first.
func (w *workers) do(ctx context.Context, f func()) bool {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	job := func() {
		defer func() { <-w.slots }()
		f()
	}
	select {
	case w.jobs <- job:
	default:
		go w.work(job)
	}
	return true
}

func (w *workers) work(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-w.jobs:
		case <-idle.C:
			return
		}
	}
}
