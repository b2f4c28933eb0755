package cli

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/kubeguard/kubeguard/internal/audit"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/node"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
)

// NodeOptions are the flags of kubeguard node.
type NodeOptions struct {
	Paths    []string
	Root     string
	Format   string
	Output   string
	FailOn   string
	Config   string
	Baseline string
	// Every, when not zero, checks the node again at this interval until
	// the command is stopped (the node-scanner DaemonSet's mode).
	Every time.Duration
}

const nodeHelp = `Usage: kubeguard node [flags] [PATH...]

Checks what a control-plane or worker node runs with: the command lines of
kube-apiserver, kube-controller-manager, kube-scheduler and etcd (static pod
manifests), the kubelet's flags (systemd unit, kubeadm-flags.env) and
KubeletConfiguration, the EncryptionConfiguration, audit policy, kubeconfigs
and the PKI directory (certificate lifetimes, key permissions,
system:masters client certificates).

Every verdict is taken from the effective setting: the flag, else the
configuration file, else the upstream default (Kubernetes v1.36), and names
the file and line, or the default, that decided it. Encryption at rest is
judged per resource as the API server loads the file: the first provider
of a resource's list writes, so identity first means plain text.

With no PATH, the layouts of kubeadm and common distributions are read
under --root. PATHs may be files or directories: static pod manifests,
KubeletConfiguration, EncryptionConfiguration, kubeconfigs, PEM files,
kubelet unit or environment files, and /proc/PID/cmdline files.

Examples:
  sudo kubeguard node
  kubeguard node --root /host -o json --every 6h   # the node-scanner DaemonSet
  kubeguard node /etc/kubernetes/enc.yaml      # one EncryptionConfiguration
  kubeguard node /proc/$(pgrep -o kube-apiserver)/cmdline

Exit status: 0 no finding at or above --fail-on, 1 such findings, 2 usage
or input errors, including settings the component would refuse to start
with (the rest is still checked).
`

func nodeFlags(o *NodeOptions) *flagSet {
	fs := newFlags("node", nodeHelp)
	fs.StringVar(&o.Root, "root", "/", "`directory` the node's file system is mounted at; absolute paths named by flags and configuration files are read under it")
	fs.formatFlag(&o.Format, "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Output, "output-file", "", "write the report to `file` instead of standard output")
	failOnFlag(fs, &o.FailOn)
	fs.StringVar(&o.Config, "config", "", "configuration `file` ("+config.FileName+"): disabled checks, severity overrides, exemptions")
	fs.StringVar(&o.Baseline, "baseline", "", "JSON report `file` of accepted findings: only findings not in it fail")
	fs.DurationVar(&o.Every, "every", 0, "check again at this `interval` until stopped, one report each time (0: once)")
	return fs
}

func runNode(ctx context.Context, args []string, io IO) int {
	var o NodeOptions
	fs := nodeFlags(&o)
	paths, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	o.Paths = paths
	failOn, err := severityFlag("fail-on", o.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	if o.Every < 0 || (o.Every > 0 && o.Output != "") {
		return fs.usageError(io, fmt.Errorf("--every needs a positive interval and standard output"))
	}
	if o.Every == 0 {
		return nodeOnce(o, failOn, io, fs)
	}
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		nodeOnce(o, failOn, io, fs)
		select {
		case <-ctx.Done():
			return ExitOK
		case <-t.C:
		}
	}
}

// nodeOnce checks the node once and writes one report.
func nodeOnce(o NodeOptions, failOn finding.Severity, io IO, fs *flagSet) int {
	out, w, closeOut, err := openOutput(o.Format, o.Output, false, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	r, err := NodeReport(o, time.Now())
	if err != nil {
		closeOut()
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	for _, e := range r.Errors {
		fmt.Fprintf(io.Stderr, "kubeguard: %s\n", e.Error())
	}
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	return exitStatus(r, failOn)
}

// NodeReport reads a node as o says and judges it.
func NodeReport(o NodeOptions, now time.Time) (*report.Report, error) {
	// There are no annotations on a node's files: the plan applies the
	// configuration's disabled checks, overrides and exemptions and the
	// baseline.
	cs := node.Checks()
	// The audit policy the API server names is linted with the audit
	// policy checks.
	plan, err := run.Configure(append(node.Metadata(cs), audit.PolicyChecks...), checks.Known, run.Settings{ConfigFile: o.Config, Baseline: o.Baseline, NoAnnotations: true, Now: now.UTC()})
	if err != nil {
		return nil, err
	}
	cs = slices.DeleteFunc(cs, func(c node.Check) bool {
		return !slices.ContainsFunc(plan.Checks, func(k check.Check) bool { return k.ID == c.ID })
	})
	host := node.Host{Root: o.Root}
	var n *node.Node
	if len(o.Paths) == 0 {
		n = node.Read(host, node.DefaultLayout)
	} else {
		n = node.ReadPaths(host, o.Paths)
	}
	fs, errs := node.Evaluate(n, cs, node.Options{Now: now, AuditPolicy: lintAuditPolicy})
	if len(n.Components) == 0 && n.Kubelet == nil && len(n.Files) == 0 && len(n.Certs) == 0 && len(errs) == 0 {
		// Nothing found is a wrong --root or not a node, never a pass.
		where := "under " + o.Root
		if len(o.Paths) > 0 {
			where = "in the paths given"
		}
		errs = append(errs, finding.InputError{Location: finding.Location{File: o.Root}, Message: "nothing kubeguard node reads was found " + where + " (is it a node's root?)"})
	}
	report.Sort(fs)
	r := &report.Report{Version: version(), Checks: plan.Checks, Findings: plan.Judge(fs), Errors: errs, Config: plan.ConfigFile}
	for _, c := range n.Components {
		r.Objects = append(r.Objects, report.Object{Ref: c.Ref, Location: c.Loc})
	}
	if n.Kubelet != nil {
		loc := finding.Location{}
		if n.Kubelet.Config != nil {
			loc = n.Kubelet.Config.Loc
		} else if n.Kubelet.Flags != nil {
			loc = n.Kubelet.Flags.Loc
		}
		r.Objects = append(r.Objects, report.Object{Ref: n.Kubelet.Ref(), Location: loc})
	}
	return r, nil
}

// lintAuditPolicy lints the audit policy an API server names with the
// audit linter (kubeguard audit policy), for kubeguard node.
func lintAuditPolicy(path, display string) ([]finding.Finding, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > maxAuditPolicySize {
		return nil, fmt.Errorf("not a regular file of at most %d bytes", maxAuditPolicySize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := audit.LoadPolicy(display, data)
	if err != nil {
		return nil, err
	}
	return p.Lint(), nil
}

// maxAuditPolicySize bounds the audit policy read by kubeguard node.
const maxAuditPolicySize = 4 << 20
