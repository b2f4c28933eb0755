package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/rbac"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/suppress"
	rbacv1 "k8s.io/api/rbac/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
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
	files, explicit := o.kubeconfigFiles()
	var found []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			found = append(found, f)
		}
	}
	if len(found) == 0 && explicit {
		// client-go skips the missing files of $KUBECONFIG, and then
		// falls back to the in-cluster configuration or gives up with
		// advice about KUBERNETES_MASTER.
		return nil, "", fmt.Errorf("no kubeconfig at %s (%s)", strings.Join(files, ", "), o.kubeconfigOrigin())
	}
	cfg, _, err := c.RESTConfig()
	if err != nil {
		if len(found) == 0 {
			return nil, "", fmt.Errorf("no cluster to connect to: no kubeconfig at %s (give --kubeconfig FILE or set KUBECONFIG), and not running in a pod", strings.Join(files, ", "))
		}
		return nil, "", fmt.Errorf("%s: %w", o.kubeconfigText(found), errors.Unwrap(err))
	}
	clients, err := cluster.NewClients(cfg)
	if err != nil {
		return nil, "", err
	}
	target := cfg.Host + " (in-cluster configuration)"
	if len(found) > 0 {
		target = cfg.Host + " (" + o.kubeconfigText(found) + ")"
	}
	return clients, target, nil
}

// kubeconfigFiles are the kubeconfig files a connection reads, and whether
// the user named them (--kubeconfig or $KUBECONFIG) rather than the
// default ~/.kube/config.
func (o *ConnectOptions) kubeconfigFiles() ([]string, bool) {
	if o.Kubeconfig != "" {
		return []string{o.Kubeconfig}, true
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	return rules.Precedence, os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != ""
}

// kubeconfigOrigin says where the kubeconfig files came from.
func (o *ConnectOptions) kubeconfigOrigin() string {
	if o.Kubeconfig != "" {
		return "--kubeconfig"
	}
	return "$" + clientcmd.RecommendedConfigPathEnvVar
}

// kubeconfigText names the kubeconfig files read and the context used:
// kubeconfig /home/u/.kube/config, context "prod".
func (o *ConnectOptions) kubeconfigText(files []string) string {
	name := o.Context
	if name == "" {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		if raw, err := rules.Load(); err == nil {
			name = raw.CurrentContext
		}
	}
	text := "kubeconfig " + strings.Join(files, ", ")
	if name != "" {
		text += fmt.Sprintf(", context %q", name)
	}
	return text
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

// unreachable reports whether err says the API server could not be
// reached at all (refused, no route, unknown host, timed out dialling),
// as opposed to an answer the server gave.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &op) && op.Op == "dial" || errors.As(err, &dns)
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

Output: the formats of scan, and policyreport: wgpolicyk8s.io/v1alpha2
PolicyReports (one per namespace) and a ClusterPolicyReport as YAML.
--write-reports also creates or updates those reports in the cluster (the
only write kubeguard makes; it needs the PolicyReport CRDs).

Examples:
  kubeguard cluster
  kubeguard cluster --context prod -n payments -o sarif --output prod.sarif
  kubeguard cluster --readiness
  kubeguard cluster -o policyreport | kubectl apply -f -

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
	if err := checkScanFlags(fs, &o.Scan); err != nil {
		return fs.usageError(io, err)
	}
	failOn, err := severityFlag("fail-on", o.Scan.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	formats := []string{"text", "json", "sarif", "junit", "policyreport"}
	if o.Readiness {
		formats = []string{"text", "json"}
	}
	if err := oneOf("format", o.Scan.Format, formats); err != nil {
		return fs.usageError(io, err)
	}
	all, err := checks.All()
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	cs, filter, opts, err := configure(&o.Scan, all)
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
	res := ScanCluster(ctx, col, cs, opts, o.Scan.Workers, filter)
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
		if err := cluster.WriteReports(ctx, clients.Dynamic, report.PolicyReports(r, time.Now().UTC(), o.Namespace)); err != nil {
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

func writeCluster(o *ClusterOptions, stdout io.Writer, res *ClusterResult) error {
	format := o.Scan.Format
	var out report.Output
	w, closeOut := stdout, func() error { return nil }
	switch {
	case o.Readiness || format == "policyreport":
		if o.Scan.Output != "" {
			f, err := os.Create(o.Scan.Output)
			if err != nil {
				return fmt.Errorf("--output: %w", err)
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

// ClusterResult is what a live scan found.
type ClusterResult struct {
	Report    *report.Report
	Readiness []cluster.NamespaceReadiness
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
	ready   *cluster.Readiness
	builder rbac.Builder

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
	s.ready = cluster.NewReadiness(eval)

	// Context kinds: indexed for the checks, and checked themselves.
	var held []*object.Object
	needs := append([]string{"Namespace"}, check.Needs(cs)...)
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
	engine := check.NewEngine(cs, check.NewContext(opts, held))

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
		if counted {
			return
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
			res.Readiness = slices.DeleteFunc(res.Readiness, func(n cluster.NamespaceReadiness) bool { return n.Namespace != ns })
		}
	}
	return res
}

// writeReadiness prints the readiness table, or its JSON.
func writeReadiness(w io.Writer, format string, rs []cluster.NamespaceReadiness) error {
	if format == "json" {
		if rs == nil {
			rs = []cluster.NamespaceReadiness{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Namespaces []cluster.NamespaceReadiness `json:"namespaces"`
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

func violators(vs []cluster.Violation) string {
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

// loadRBACLive reads the RBAC state of a live cluster through the
// collector kubeguard cluster uses: roles, bindings, ServiceAccounts,
// legacy token Secrets (metadata only), CustomResourceDefinitions,
// namespaces, and a slim copy of every workload and running pod not owned
// by another workload.
func loadRBACLive(ctx context.Context, o *RBACOptions, stderr io.Writer) (*rbacInput, error) {
	clients, target, err := o.Connect.connect(o.wrap)
	if err != nil {
		return nil, err
	}
	col := &cluster.Collector{Lister: clients, Metadata: clients}
	prog := newProgress(stderr)
	col.Progress = prog.update
	defer prog.done()
	s := &liveScan{col: col, owners: cluster.NewOwners()}
	add := func(slim bool) func(*cluster.Item) error {
		return func(it *cluster.Item) error {
			conv := cluster.Object
			if slim {
				if _, owned := s.owners.Add(it, refOf(it)); owned {
					return nil
				}
				conv = cluster.Slim
			}
			obj, err := conv(it)
			if err == nil {
				var typed bool
				if typed, err = addRBAC(&s.builder, it); err == nil && !typed {
					s.builder.Add(obj)
				}
			}
			if err != nil {
				s.fail(refOf(it), err)
				return nil
			}
			s.objects = append(s.objects, report.Object{Ref: obj.Ref})
			return nil
		}
	}
	for _, r := range slices.Concat([]cluster.Resource{cluster.Namespaces}, cluster.RBAC) {
		s.each(ctx, r, add(false))
	}
	for _, r := range slices.Concat(cluster.Workloads, []cluster.Resource{cluster.Pods}) {
		s.each(ctx, r, add(true))
	}
	if s.listed == 0 && s.unreachable != nil {
		return nil, fmt.Errorf("cannot reach the API server at %s: %v", target, rootCause(s.unreachable))
	}
	for _, w := range s.warnings {
		fmt.Fprintf(stderr, "kubeguard: warning: %v\n", w)
	}
	in := &rbacInput{policy: s.builder.Build(), objects: s.objects, errors: s.errors}
	in.errors = append(in.errors, in.policy.Problems...)
	return in, nil
}

// addRBAC adds a role or binding to the policy as a typed value, and
// reports whether it was one. Typed input has no source position, which
// is what a live object is: the analysis then names no file or line.
func addRBAC(b *rbac.Builder, it *cluster.Item) (bool, error) {
	var in rbac.Input
	var dst any
	switch it.Resource {
	case cluster.Roles:
		in.Roles = make([]rbacv1.Role, 1)
		dst = &in.Roles[0]
	case cluster.ClusterRoles:
		in.ClusterRoles = make([]rbacv1.ClusterRole, 1)
		dst = &in.ClusterRoles[0]
	case cluster.RoleBindings:
		in.RoleBindings = make([]rbacv1.RoleBinding, 1)
		dst = &in.RoleBindings[0]
	case cluster.ClusterRoleBindings:
		in.ClusterRoleBindings = make([]rbacv1.ClusterRoleBinding, 1)
		dst = &in.ClusterRoleBindings[0]
	default:
		return false, nil
	}
	if err := kruntime.DefaultUnstructuredConverter.FromUnstructured(it.Raw, dst); err != nil {
		return false, fmt.Errorf("decode: %w", err)
	}
	b.AddInput(in)
	return true, nil
}
