package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
)

// ConnectOptions are the flags that reach a live cluster, shared by
// kubeguard cluster and the rbac commands' --cluster input.
type ConnectOptions struct {
	Kubeconfig string
	Context    string
	QPS        float64
	Burst      int
}

func connectFlags(fs *flagSet, o *ConnectOptions) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, ~/.kube/config, or the pod's in-cluster configuration)")
	fs.StringVar(&o.Context, "context", "", "kubeconfig `context` (default: the current context)")
	fs.Float64Var(&o.QPS, "qps", cluster.DefaultQPS, "API requests per second (`n`)")
	fs.IntVar(&o.Burst, "burst", cluster.DefaultBurst, "API request burst (`n`)")
}

// connect builds the clients of the connection, and says which server,
// context and kubeconfig it reaches for errors to name. A kubeconfig that
// cannot be used is an error naming the files tried and the context.
func (o *ConnectOptions) connect(wrap func(*cluster.Connection)) (*cluster.Clients, string, error) {
	c := cluster.Connection{Kubeconfig: o.Kubeconfig, Context: o.Context, QPS: float32(o.QPS), Burst: o.Burst, UserAgent: "kubeguard/" + version()}
	if wrap != nil {
		wrap(&c)
	}
	cfg, target, err := c.Resolve()
	if err != nil {
		return nil, "", err
	}
	clients, err := cluster.NewClients(cfg)
	if err != nil {
		return nil, "", err
	}
	return clients, target, nil
}

// rootCause is the network error under the layers of a failed request
// (list, URL): "dial tcp 127.0.0.1:1: connect: connection refused".
func rootCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	return err
}

// ClusterOptions are the flags of kubeguard cluster.
type ClusterOptions struct {
	Scan    ScanOptions
	Connect ConnectOptions
	// Namespace limits namespaced objects to one namespace; empty is all.
	Namespace string
	// AllNamespaces says all namespaces explicitly (-A, as kubectl).
	AllNamespaces bool
	WriteReports  bool
	// Readiness prints the Pod Security readiness of each namespace
	// instead of the findings.
	Readiness bool
	// Nodes also judges the control plane's static pods and every
	// kubelet's running configuration with the checks of kubeguard node.
	Nodes bool
	// NodeTimeout bounds the read of each kubelet's configuration.
	NodeTimeout time.Duration
}

const clusterUsage = `Usage: kubeguard cluster [flags]

Checks a live cluster with the checks of 'kubeguard scan' and the RBAC
analysis of 'kubeguard rbac risks'. It only reads: pods, every workload kind,
namespaces, ServiceAccounts, Roles, ClusterRoles and their bindings,
NetworkPolicies, Services, Ingresses, ResourceQuotas and LimitRanges, listed
page by page; Secrets are listed as metadata only (PartialObjectMetadata), so
no Secret's data is ever requested. A resource type the identity may not list,
or that the cluster does not serve, is left out with a warning.

Findings are reported on what a user edits: a pod created by a ReplicaSet
created by a Deployment is reported once, on the Deployment, with the number
of its running pods; Jobs created by CronJobs likewise.

Pod Security readiness: for every namespace, the highest Pod Security level
(and version) all its running pods satisfy, judged by the API server's own
code, and the pods that violate baseline and restricted: whether setting
pod-security.kubernetes.io/enforce=restricted would let them be re-created.
It ends the text report; --readiness prints only it (text or json).

Nodes (--nodes, opt-in): also judges what runs the cluster with the checks
of 'kubeguard node': the flags of kube-apiserver, kube-controller-manager,
kube-scheduler and etcd, from the mirror pods of their static pods in
kube-system (annotation kubernetes.io/config.mirror), and each kubelet's
running configuration (defaults applied, flags merged), read through the
API server's node proxy: GET /api/v1/nodes/NAME/proxy/configz, one node at a
time. Findings name the Pod and its container's argument, or the Node and
the configuration field. It needs list on nodes and get on nodes/proxy,
which kubeguard's own RBAC analysis reports as risky: nodes/proxy also lets
its holder run commands in every pod through the kubelet API. The scanner's
ClusterRole (deploy/scanner) does not grant it; bind
deploy/scanner/nodes-rbac.yaml to add it, knowingly. A node that cannot be
read (NotReady, forbidden) is an error naming it, and the others are judged;
-n does not narrow it: the control plane serves every namespace.
The files the flags name (EncryptionConfiguration, audit policy,
AuthorizationConfiguration, certificates) are on the nodes and are not
judged this way: run 'kubeguard node' there (deploy/node-scanner).

Output: the formats of scan, and policyreport: wgpolicyk8s.io/v1alpha2
PolicyReports (one per namespace) and a ClusterPolicyReport as YAML.
--write-reports also creates or updates those reports in the cluster (the
only write kubeguard makes; it needs the PolicyReport CRDs).

Examples:
  kubeguard cluster
  kubeguard cluster --context prod -n payments -o sarif --output-file prod.sarif
  kubeguard cluster --readiness
  kubeguard cluster -o policyreport | kubectl apply -f -
  kubeguard cluster --nodes --fail-on high   # needs nodes/proxy: see above

Exit status: 0 no finding at or above --fail-on, 1 such findings, 2 usage
errors, an unreachable cluster, or objects that could not be read.
`

func clusterFlags(o *ClusterOptions) *flagSet {
	fs := newFlags("cluster", clusterUsage)
	checkFlags(fs, &o.Scan)
	fs.Lookup("format").Usage = "output `format`: text, json, sarif, junit or policyreport"
	fs.Lookup("config").Usage = "configuration `file` (" + config.FileName + ": disabled checks, parameters, exemptions); none by default"
	fs.Lookup("workers").Usage = "objects checked in parallel (`n`; default: one per CPU)"
	connectFlags(fs, &o.Connect)
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "check only this `namespace` (default: all namespaces)")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "check all namespaces (the default; as kubectl's -A)")
	fs.BoolVar(&o.WriteReports, "write-reports", false, "create or update the PolicyReports in the cluster")
	fs.BoolVar(&o.Readiness, "readiness", false, "print only the Pod Security readiness of each namespace")
	fs.BoolVar(&o.Nodes, "nodes", false, "also judge the control plane's static pods and each kubelet's configuration (needs get on nodes/proxy, a risky permission: see above)")
	fs.DurationVar(&o.NodeTimeout, "node-timeout", cluster.DefaultNodeTimeout, "with --nodes, give up on a kubelet that has not answered within this `duration`")
	return fs
}

func runCluster(ctx context.Context, args []string, io IO) int {
	return runClusterWith(ctx, args, io, nil)
}

// runClusterWith is runCluster with a hook on the connection: tests audit
// the requests through it.
func runClusterWith(ctx context.Context, args []string, io IO, wrap func(*cluster.Connection)) int {
	var o ClusterOptions
	fs := clusterFlags(&o)
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return fs.usageError(io, fmt.Errorf("unexpected argument %q", pos[0]))
	}
	if o.AllNamespaces && o.Namespace != "" {
		return fs.usageError(io, errors.New("-n and -A exclude each other"))
	}
	lv, err := checkScanFlags(fs, &o.Scan)
	if err != nil {
		return fs.usageError(io, err)
	}
	failOn, err := severityFlag("fail-on", o.Scan.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	if o.Nodes && o.Readiness {
		return fs.usageError(io, errors.New("--nodes and --readiness exclude each other"))
	}
	if o.NodeTimeout <= 0 {
		return fs.usageError(io, fmt.Errorf("invalid --node-timeout %s (want a positive duration)", o.NodeTimeout))
	}
	formats := append(slices.Clone(report.Formats), "policyreport")
	if o.Readiness {
		formats = []string{"text", "json"}
	}
	if err := oneOf("output", o.Scan.Format, formats); err != nil {
		return fs.usageError(io, err)
	}
	p, err := planFor(run.FrontCluster, o.Scan.settings(lv, nil))
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	clients, target, err := o.Connect.connect(wrap)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard cluster: %v\n", err)
		return ExitError
	}
	col := &cluster.Collector{Lister: clients, Metadata: clients, Namespace: o.Namespace}
	prog := newProgress(io.Stderr)
	col.Progress = prog.update
	res := run.ScanCluster(ctx, col, p.Checks, p.Options, o.Scan.Workers, p.Filter)
	if p.Filter != nil && p.Filter.Config != nil {
		res.Report.Config = p.Filter.Config.Path
	}
	prog.done()
	if res.Listed == 0 && res.Unreachable != nil {
		// Every request failed to connect: one line says so, instead of
		// one error per resource type, an empty report and readiness
		// table, and a guess at permissions.
		fmt.Fprintf(io.Stderr, "kubeguard cluster: cannot reach the API server at %s: %v\n", target, rootCause(res.Unreachable))
		return ExitError
	}
	r := res.Report
	r.Version = version()
	for _, w := range res.Warnings {
		fmt.Fprintf(io.Stderr, "kubeguard: warning: %v\n", w)
	}
	if o.Nodes {
		scanNodes(ctx, &o, col, clients, p, r, io)
	}
	errw := errorsTo(o.Scan.Format, o.Scan.Output, io.Stdout, io.Stderr)
	if o.Readiness {
		errw = io.Stderr // the readiness table does not list them
	}
	for _, e := range r.Errors {
		fmt.Fprintf(errw, "kubeguard: %s\n", e.Error())
	}
	code = exitStatus(r, failOn)
	if res.Listed == 0 {
		// Every resource type was forbidden or missing: an empty report
		// would read as a clean cluster.
		fmt.Fprintln(io.Stderr, "kubeguard: nothing could be read from the cluster: is the identity allowed to list anything?")
		code = ExitError
	}
	if o.WriteReports {
		if err := run.WriteReports(ctx, clients.Dynamic, report.PolicyReports(r, time.Now().UTC(), o.Namespace)); err != nil {
			fmt.Fprintf(io.Stderr, "kubeguard: write reports: %v\n", err)
			code = ExitError
		}
	}
	if err := writeCluster(&o, io.Stdout, res); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: write report: %v\n", err)
		return ExitError
	}
	if o.Readiness && code == ExitFindings {
		code = ExitOK
	}
	return code
}

// scanNodes judges the control plane and kubelets (--nodes) and adds what
// it found to the cluster's report.
func scanNodes(ctx context.Context, o *ClusterOptions, col *cluster.Collector, clients *cluster.Clients, p *run.Plan, r *report.Report, io IO) {
	cs := node.Checks()
	if p.Filter != nil && p.Filter.Config != nil {
		cs = slices.DeleteFunc(cs, func(c node.Check) bool { return p.Filter.Config.Disabled(c.ID) })
	}
	proxy := *clients.Proxy
	proxy.Timeout = o.NodeTimeout
	quiet := *col
	quiet.Progress = nil
	nr := run.ScanNodes(ctx, &quiet, &proxy, cs, p.Filter, time.Now())
	for _, u := range nr.Unjudged {
		fmt.Fprintf(io.Stderr, "kubeguard: warning: %s\n", u)
	}
	r.Checks = append(r.Checks, node.Metadata(cs)...)
	nr.AddTo(r)
}

func writeCluster(o *ClusterOptions, stdout io.Writer, res *run.ClusterResult) error {
	format := o.Scan.Format
	var out report.Output
	w, closeOut := stdout, func() error { return nil }
	switch {
	case o.Readiness || format == "policyreport":
		if o.Scan.Output != "" {
			f, err := os.Create(o.Scan.Output)
			if err != nil {
				return fmt.Errorf("--output-file: %w", err)
			}
			w, closeOut = f, f.Close
		}
		out = report.PolicyReportYAML{Namespace: o.Namespace}
	default:
		var err error
		out, w, closeOut, err = openOutput(format, o.Scan.Output, o.Scan.Compact, stdout)
		if err != nil {
			return err
		}
	}
	var err error
	switch {
	case o.Readiness:
		err = writeReadiness(w, format, res.Readiness)
	default:
		err = out.Write(w, res.Report)
		if err == nil && format == "text" {
			_, err = fmt.Fprintln(w)
			if err == nil {
				err = writeReadiness(w, format, res.Readiness)
			}
		}
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}

// writeReadiness prints the readiness table, or its JSON.
func writeReadiness(w io.Writer, format string, rs []run.NamespaceReadiness) error {
	if format == "json" {
		if rs == nil {
			rs = []run.NamespaceReadiness{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Namespaces []run.NamespaceReadiness `json:"namespaces"`
		}{rs})
	}
	fmt.Fprintln(w, "Pod Security readiness (running pods, judged by the API server's Pod Security code):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tPODS\tSATISFIES\tENFORCE NOW\tVIOLATE BASELINE\tVIOLATE RESTRICTED")
	for _, n := range rs {
		level := n.Level
		if n.Version != "latest" {
			level += " (enforce-version " + n.Version + ")"
		}
		enforce := n.Enforce
		if enforce == "" {
			enforce = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", n.Namespace, n.Pods, level, enforce, violators(n.Baseline), violators(n.Restricted))
	}
	return tw.Flush()
}

func violators(vs []run.Violation) string {
	if len(vs) == 0 {
		return "-"
	}
	var parts []string
	for i, v := range vs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(vs)-3))
			break
		}
		pods := ""
		if v.Owner.Kind != cluster.Pods.Kind {
			pods = fmt.Sprintf(" ×%d", v.Pods)
		}
		parts = append(parts, fmt.Sprintf("%s/%s%s [%s]", v.Owner.Kind, v.Owner.Name, pods, strings.Join(v.Checks, ",")))
	}
	return strings.Join(parts, "; ")
}

// progress shows on a terminal what is being listed.
type progress struct {
	w     io.Writer
	on    bool
	mu    sync.Mutex
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(r cluster.Resource, n int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r\033[Kkubeguard: listing %s: %d", r, n)
	p.shown = true
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// loadRBACLive reads the RBAC state of a live cluster, showing progress on
// a terminal and saying the resource types left out.
func loadRBACLive(ctx context.Context, o *RBACOptions, stderr io.Writer) (*run.RBACInput, error) {
	clients, target, err := o.Connect.connect(o.wrap)
	if err != nil {
		return nil, err
	}
	col := &cluster.Collector{Lister: clients, Metadata: clients}
	prog := newProgress(stderr)
	col.Progress = prog.update
	in := run.LoadRBACLive(ctx, col)
	prog.done()
	if in.Listed == 0 && in.Unreachable != nil {
		return nil, fmt.Errorf("cannot reach the API server at %s: %v", target, rootCause(in.Unreachable))
	}
	for _, w := range in.Warnings {
		fmt.Fprintf(stderr, "kubeguard: warning: %v\n", w)
	}
	return in, nil
}
