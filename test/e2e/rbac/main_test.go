// Package rbac holds kubeguard's RBAC analysis to a real kube-apiserver:
//
//   - the built-in roles and bindings kubeguard ships (included unless --no-defaults) are
//     what the API server creates, object for object;
//   - aggregation: kubeguard's rules for every aggregated ClusterRole are
//     the rules the upstream cluster role aggregation controller writes.
//     No kube-controller-manager runs here, so the test runs that
//     controller itself, the upstream package
//     k8s.io/kubernetes/pkg/controller/clusterroleaggregation, against the
//     server;
//   - authorization: for generated RBAC sets and requests, kubeguard's
//     answer (package internal/rbac, and a sample through the CLI) is the
//     SubjectAccessReview's, including system:masters and the bindings to
//     missing roles the server names; for a sample, the request is made
//     by a really authenticated identity (a ServiceAccount token, an
//     impersonated user, an anonymous request), proving the groups
//     authentication adds.
package rbac

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

var srv *apiserver.Server

func TestMain(m *testing.M) {
	code := apiserver.RunTests(m, apiserver.Options{}, &srv)
	if theWorld != nil {
		os.RemoveAll(theWorld.dir)
	}
	os.Exit(code)
}

// moduleRoot is the directory of kubeguard's own module, which the e2e
// module replaces with a local path.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := apiserver.ModuleDir(t.Context(), "github.com/kubeguard/kubeguard")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "internal", "rbac")); err != nil {
		t.Fatalf("kubeguard module not at %s: %v", dir, err)
	}
	return dir
}

var aggregationOnce sync.Once

// runAggregation starts the upstream cluster role aggregation controller
// against the server, once for the package: it runs until the test binary
// exits, as kube-controller-manager's would.
func runAggregation() {
	aggregationOnce.Do(func() {
		ctx := context.Background()
		f := informers.NewSharedInformerFactory(srv.Client, 0)
		c := clusterroleaggregation.NewClusterRoleAggregation(f.Rbac().V1().ClusterRoles(), srv.Client.RbacV1())
		f.Start(ctx.Done())
		go c.Run(ctx, 2)
	})
}

// settleAggregation waits until the aggregated ClusterRoles stop changing:
// the controller re-syncs every aggregated role on any ClusterRole change,
// so when several seconds pass without a write, it has nothing left to do.
// It returns the server's ClusterRoles by name.
func settleAggregation(t *testing.T) map[string]rbacv1.ClusterRole {
	t.Helper()
	runAggregation()
	const quiet = 4 * time.Second
	deadline := time.Now().Add(2 * time.Minute)
	var (
		last    string
		since   time.Time
		current map[string]rbacv1.ClusterRole
	)
	for {
		list, err := srv.Client.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		current = map[string]rbacv1.ClusterRole{}
		var sig []string
		for _, r := range list.Items {
			current[r.Name] = r
			if r.AggregationRule != nil {
				sig = append(sig, r.Name+"@"+r.ResourceVersion)
			}
		}
		slices.Sort(sig)
		if s := strings.Join(sig, ","); s != last {
			last, since = s, time.Now()
		} else if time.Since(since) >= quiet {
			return current
		}
		if time.Now().After(deadline) {
			t.Fatal("aggregated ClusterRoles still changing after 2 minutes")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// createAll creates objects with a few requests in flight at once.
func createAll(ctx context.Context, n int, create func(ctx context.Context, i int) error) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := create(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

func check(err error, what string, args ...any) error {
	if err != nil {
		return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), err)
	}
	return nil
}
