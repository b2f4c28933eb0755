package cli

import (
	"context"
	"io"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/run"
)

// loadNetpolLive reads what the connectivity analysis needs from a live
// cluster, showing progress on a terminal.
func loadNetpolLive(ctx context.Context, o *NetpolOptions, stderr io.Writer) (*netpolInput, error) {
	clients, _, err := o.Connect.connect(o.wrap)
	if err != nil {
		return nil, err
	}
	col := &cluster.Collector{Lister: clients, Metadata: clients}
	prog := newProgress(stderr)
	col.Progress = prog.update
	n, errs := run.LoadNetpolLive(ctx, col)
	prog.done()
	return &netpolInput{net: n, errors: errs}, nil
}
