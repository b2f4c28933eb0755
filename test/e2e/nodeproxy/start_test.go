package nodeproxy

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
)

// start runs a kube-apiserver and etcd for one test, inside the package's
// network namespace.
func start(t *testing.T, opts apiserver.Options) *apiserver.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a kube-apiserver")
	}
	opts.Log = os.Stderr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := apiserver.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.LogTails(30))
		}
		s.Stop()
	})
	return s
}
