package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kubeguard/kubeguard/internal/cluster"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/run"
)

// NetpolOptions are the flags of the kubeguard netpol commands.
type NetpolOptions struct {
	// Files are files, directories and - for standard input.
	Files  []string
	Format string
	// Cluster reads a live cluster instead of files.
	Cluster bool
	Connect ConnectOptions
	// wrap, when set, hooks the connection (tests).
	wrap func(*cluster.Connection)
}

const netpolUsage = `Usage: kubeguard netpol <command> [flags]

Analyses NetworkPolicy connectivity offline, from manifests, or live: which
pods may open connections to which, on which ports, and why. Policies are
evaluated exactly as the networking.k8s.io/v1 API defines them; see
docs/netpol.md for the rules and what is out of scope (host-network pods).

Commands:
  can-reach SRC DST PORT[/PROTOCOL]
            yes or no, and for each direction the policy and rule that
            allow it, or why none of the policies selecting the pod does
  matrix    workload x workload reachability, "outside" included
  exposure  what each workload accepts from any namespace and from outside
            the cluster, and what it may send outside (cloud metadata
            address 169.254.169.254 called out)
  diff      OLD NEW: the connections a change of manifests adds and removes

SRC and DST are namespace/pod, namespace/kind/name for a workload (which
stands for the pods of its template: namespace/deployment/web), or an IP
address outside the cluster.

Input (every command but diff): -f/--filename PATH, repeatable: files,
directories (searched recursively for .yaml, .yml and .json) and - for
standard input; or --cluster (with --kubeconfig, --context) to read the
Namespaces, Pods and NetworkPolicies of a live cluster, read-only.
Namespaced objects without a namespace are taken to be in "default".

Run 'kubeguard netpol <command> --help' for a command's flags.
`

func runNetpol(ctx context.Context, args []string, io IO) int {
	return runGroup(ctx, "netpol", netpolUsage, []subcommand{
		{"can-reach", runCanReach}, {"matrix", runMatrix}, {"exposure", runExposure}, {"diff", runNetpolDiff},
	}, args, io)
}

// netpolFlags makes the flag set of a netpol command with the input flags
// (files, unless files is false, and the live cluster) and -o.
func netpolFlags(name, usage string, o *NetpolOptions, files bool, formats []string) *flagSet {
	fs := newFlags("netpol "+name, usage)
	if files {
		fs.StringArrayVarP(&o.Files, "filename", "f", nil, "manifest `path` to read (repeatable; - for standard input)")
		fs.BoolVar(&o.Cluster, "cluster", false, "read the live cluster (see kubeguard cluster --help) instead of files")
		connectFlags(fs, &o.Connect)
	}
	desc := "output `format`: " + strings.Join(formats, ", ")
	fs.formatFlag(&o.Format, formats[0], desc)
	return fs
}

// netpolInput is what the input held.
type netpolInput struct {
	net    *netpol.Network
	errors []finding.InputError
}

// warn prints the input errors on stderr.
func (in *netpolInput) warn(w io.Writer) {
	for _, e := range in.errors {
		fmt.Fprintf(w, "kubeguard: %s\n", e.Error())
	}
}

// loadNetpol reads the input with the scan loader, or the live cluster.
func loadNetpol(ctx context.Context, o *NetpolOptions, paths []string, stdin io.Reader, stderr io.Writer) (*netpolInput, error) {
	if o.Cluster || o.Connect.Kubeconfig != "" || o.Connect.Context != "" {
		if len(paths) > 0 {
			return nil, errors.New("-f and --cluster exclude each other")
		}
		return loadNetpolLive(ctx, o, stderr)
	}
	if len(paths) == 0 {
		return nil, errors.New("no input: give manifests with -f PATH (- for standard input), or --cluster")
	}
	n, errs := run.LoadNetpol(ctx, paths, stdin)
	return &netpolInput{net: n, errors: errs}, nil
}

const canReachUsage = `Usage: kubeguard netpol can-reach SRC DST PORT[/PROTOCOL] -f PATH... [-o text|json]

Answers yes or no: may SRC open a connection to DST on PORT (TCP unless
/UDP or /SCTP is given)? The first word of the output is the answer. Then,
for each direction (the egress of the source, the ingress of the
destination): whether a policy isolates the pod, and the policy, rule and
file:line that allow the connection, or every policy selecting the pod
and why none of its rules does. An address outside the cluster is not
governed by NetworkPolicy on its own side.

SRC and DST: namespace/pod, namespace/kind/name (a workload stands for the
pods of its template), or an IP address (outside the cluster, or a pod's
IP when the input gives pod IPs).

Examples:
  # May the web frontend reach the database on 5432/TCP?
  kubeguard netpol can-reach shop/deployment/web shop/statefulset/db 5432 -f k8s/
  # DNS from a pod to CoreDNS:
  kubeguard netpol can-reach shop/web-0 kube-system/deployment/coredns 53/UDP -f k8s/
  # From outside the cluster, and to the cloud metadata address:
  kubeguard netpol can-reach 203.0.113.7 shop/deployment/web 443 -f k8s/
  kubeguard netpol can-reach shop/deployment/web 169.254.169.254 80 -f k8s/
  # On a live cluster, as JSON:
  kubeguard netpol can-reach --cluster shop/web-0 shop/db-0 5432 -o json

Exit status: 0 yes, 1 no, 2 usage or input errors.
`

func runCanReach(ctx context.Context, args []string, io IO) int {
	var o NetpolOptions
	fs := netpolFlags("can-reach", canReachUsage, &o, true, []string{"text", "json"})
	pos, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	if err := oneOf("output", o.Format, []string{"text", "json"}); err != nil {
		return fs.usageError(io, err)
	}
	if len(pos) != 3 {
		return fs.usageError(io, errors.New("want SRC DST PORT[/PROTOCOL]"))
	}
	proto, port, err := netpol.ParsePort(pos[2])
	if err != nil {
		return fs.usageError(io, err)
	}
	in, err := loadNetpol(ctx, &o, o.Files, io.Stdin, io.Stderr)
	if err != nil {
		return fs.usageError(io, err)
	}
	in.warn(io.Stderr)
	src, err := in.net.Lookup(pos[0])
	if err != nil {
		return fs.usageError(io, fmt.Errorf("SRC %w", err))
	}
	dst, err := in.net.Lookup(pos[1])
	if err != nil {
		return fs.usageError(io, fmt.Errorf("DST %w", err))
	}
	if src.Workload == nil && dst.Workload == nil {
		return fs.usageError(io, errors.New("SRC and DST are both outside the cluster: NetworkPolicy governs neither"))
	}
	v := in.net.Explain(src, dst, proto, port)
	if err := buffered(io.Stdout, func(w *bufio.Writer) error { return writeVerdict(w, o.Format, v) }); err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	switch {
	case len(in.errors) > 0:
		return ExitError
	case v.Allowed:
		return ExitOK
	}
	return ExitFindings
}

// verdictJSON is can-reach's JSON answer.
type verdictJSON struct {
	Allowed  bool     `json:"allowed"`
	Source   string   `json:"source"`
	Dest     string   `json:"destination"`
	Protocol string   `json:"protocol"`
	Port     int      `json:"port"`
	Egress   sideJSON `json:"egress"`
	Ingress  sideJSON `json:"ingress"`
}

type sideJSON struct {
	// Governed is false for an address outside the cluster.
	Governed bool          `json:"governed"`
	Isolated bool          `json:"isolated"`
	Allowed  bool          `json:"allowed"`
	By       []ruleJSON    `json:"allowedBy,omitempty"`
	Refusals []refusalJSON `json:"refusals,omitempty"`
	Notes    []string      `json:"notes,omitempty"`
	// Admin and Baseline are the decisions of the cluster-scoped tiers.
	Admin    *tierJSON `json:"admin,omitempty"`
	Baseline *tierJSON `json:"baseline,omitempty"`
}

type tierJSON struct {
	Policy   string            `json:"policy"`
	Rule     string            `json:"rule"`
	Action   string            `json:"action"`
	Location *finding.Location `json:"location,omitempty"`
}

func toTierJSON(d *netpol.TierDecision) *tierJSON {
	if d == nil {
		return nil
	}
	return &tierJSON{Policy: d.Policy.Ref(), Rule: d.String(), Action: string(d.Action), Location: locPtr(d.Location)}
}

type ruleJSON struct {
	Policy   string            `json:"policy"`
	Rule     string            `json:"rule"`
	Location *finding.Location `json:"location,omitempty"`
}

type refusalJSON struct {
	Policy   string            `json:"policy"`
	Location *finding.Location `json:"location,omitempty"`
	Reasons  []string          `json:"reasons"`
}

func locPtr(l finding.Location) *finding.Location {
	if l.File == "" {
		return nil
	}
	return &l
}

func toSideJSON(s netpol.Side) sideJSON {
	j := sideJSON{Governed: s.Governed, Isolated: s.Isolated, Allowed: s.Allowed, Notes: s.Notes, Admin: toTierJSON(s.Admin), Baseline: toTierJSON(s.Baseline)}
	for _, r := range s.By {
		j.By = append(j.By, ruleJSON{Policy: r.Policy.Ref(), Rule: fmt.Sprintf("spec.%s[%d]", r.Direction, r.Index), Location: locPtr(r.Location)})
	}
	for _, r := range s.Refusals {
		j.Refusals = append(j.Refusals, refusalJSON{Policy: r.Policy.Ref(), Location: locPtr(r.Policy.Source), Reasons: r.Reasons})
	}
	return j
}

func writeVerdict(w io.Writer, format string, v netpol.Verdict) error {
	if format == "json" {
		j := verdictJSON{
			Allowed: v.Allowed, Source: v.Src.String(), Dest: v.Dst.String(), Protocol: v.Protocol.String(), Port: v.Port,
			Egress: toSideJSON(v.Egress), Ingress: toSideJSON(v.Ingress),
		}
		b, err := json.MarshalIndent(j, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	answer, may := "no", "may not"
	if v.Allowed {
		answer, may = "yes", "may"
	}
	fmt.Fprintf(w, "%s: %s %s open connections to %s on %s/%d\n", answer, v.Src, may, v.Dst, v.Protocol, v.Port)
	writeSide(w, "egress of "+v.Src.String(), v.Egress)
	writeSide(w, "ingress of "+v.Dst.String(), v.Ingress)
	return nil
}

// tierLine says what a tier's rule did.
func tierLine(w io.Writer, what, tier string, d *netpol.TierDecision) {
	at := ""
	if d.Location.File != "" {
		at = " at " + d.Location.String()
	}
	verdict := map[netpol.Action]string{netpol.Accept: "accepted", netpol.Deny: "denied", netpol.Pass: "passed on"}[d.Action]
	fmt.Fprintf(w, "%s: %s by the %s tier: %s%s\n", what, verdict, tier, d, at)
}

func writeSide(w io.Writer, what string, s netpol.Side) {
	if s.Admin != nil {
		tierLine(w, what, "Admin", s.Admin)
		if s.Admin.Action != netpol.Pass {
			return
		}
	}
	if s.Baseline != nil {
		tierLine(w, what, "Baseline", s.Baseline)
		if s.Baseline.Action != netpol.Pass {
			fmt.Fprintf(w, "%s: (no NetworkPolicy isolates it, so the Baseline tier decides)\n", what)
			return
		}
	}
	switch {
	case !s.Governed:
		fmt.Fprintf(w, "%s: allowed (outside the cluster: NetworkPolicy does not govern it)\n", what)
		return
	case !s.Isolated:
		fmt.Fprintf(w, "%s: allowed (not isolated: no NetworkPolicy selects it for this direction)\n", what)
		return
	case s.Allowed:
		fmt.Fprintf(w, "%s: allowed (isolated)\n", what)
		for _, r := range s.By {
			at := ""
			if r.Location.File != "" {
				at = " at " + r.Location.String()
			}
			fmt.Fprintf(w, "  by NetworkPolicy %s%s\n", r, at)
		}
	default:
		fmt.Fprintf(w, "%s: denied (isolated by %d NetworkPolicies, none of which allows it)\n", what, len(s.Refusals))
		for _, r := range s.Refusals {
			at := ""
			if r.Policy.Source.File != "" {
				at = " at " + r.Policy.Source.String()
			}
			fmt.Fprintf(w, "  NetworkPolicy %s%s:\n", r.Policy.Ref(), at)
			for _, reason := range r.Reasons {
				fmt.Fprintf(w, "    %s\n", reason)
			}
		}
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
