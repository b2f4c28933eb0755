package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/run"
	"k8s.io/pod-security-admission/api"
)

// ScanOptions are the flags of kubeguard scan.
type ScanOptions struct {
	Paths      []string
	Level      string
	PSSVersion string
	Format     string
	Output     string
	FailOn     string
	Workers    int
	// Config is the .kubeguard.yaml to use; empty means search upwards
	// from the scanned paths.
	Config         string
	NoSuppressions bool
	Baseline       string
	// NoDefaults leaves the API server's built-in roles out of the RBAC
	// analysis that rates automounted tokens.
	NoDefaults bool
}

func scanFlags(o *ScanOptions, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.StringVar(&o.Level, "level", "restricted", "Pod Security Standards `level` to check: baseline or restricted")
	fs.StringVar(&o.PSSVersion, "pss-version", "latest", "Pod Security Standards `version`: latest or v1.N (v1.0 ... v1.37)")
	fs.StringVar(&o.Format, "format", "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Format, "o", "text", "shorthand for --format")
	fs.StringVar(&o.Output, "output", "", "write the report to `file` instead of standard output")
	fs.StringVar(&o.FailOn, "fail-on", "high", "exit 1 when a finding at or above this `severity` exists: low, medium, high or critical")
	fs.IntVar(&o.Workers, "workers", 0, "documents checked in parallel (`n`; default: one per CPU)")
	fs.StringVar(&o.Config, "config", "", "configuration `file` (default: the nearest "+config.FileName+" above the scanned paths)")
	fs.BoolVar(&o.NoSuppressions, "no-suppressions", false, "ignore kubeguard.io/ignore annotations (strict CI); configured exemptions still apply")
	fs.StringVar(&o.Baseline, "baseline", "", "JSON report `file` of accepted findings: only findings not in it fail the scan")
	fs.BoolVar(&o.NoDefaults, "no-defaults", false, "leave the API server's built-in roles (cluster-admin, admin, edit, view, system:*) out of the RBAC analysis of ServiceAccount tokens")
	fs.Usage = func() {
		fmt.Fprint(w, `Usage: kubeguard scan [flags] PATH...

Checks Kubernetes manifests: files, directories (searched recursively for
.yaml, .yml and .json) and - for standard input. Multi-document YAML, JSON,
List objects and rendered 'helm template' or 'kustomize build' output are
read; findings in Helm output name the template from its "# Source:" line.

Pod Security Standards are evaluated by the API server's own code. When the
input holds a Namespace with pod-security.kubernetes.io labels, objects in
it are also judged as Pod Security Admission would judge them.

Examples:
  kubeguard scan deploy/
  helm template my-chart | kubeguard scan -
  kustomize build overlays/prod | kubeguard scan --level baseline -o sarif --output kubeguard.sarif -

Configuration (.kubeguard.yaml) disables checks, overrides severities, sets
check parameters and exempts objects, each exemption with a reason and an
optional expiry date. An object or pod template annotation
  kubeguard.io/ignore: "<check-id>[,<check-id>] -- <reason>"
waives checks for that object; kubeguard.io/ignore.<container> waives them
for one container. Waived findings are still reported, marked suppressed.

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage or input errors (unreadable files, invalid YAML, objects without
apiVersion or kind; the rest of the input is still scanned).

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func runScan(ctx context.Context, args []string, io IO) int {
	var o ScanOptions
	fs := scanFlags(&o, io.Stderr)
	paths, err := parse(fs, args)
	if err != nil {
		return usageError(io, fs, err)
	}
	o.Paths = paths
	if len(o.Paths) == 0 {
		return usageError(io, fs, fmt.Errorf("no paths given (use - for standard input)"))
	}
	lv, err := pss.LevelVersion(o.Level, o.PSSVersion)
	if err != nil {
		return usageError(io, fs, err)
	}
	failOn, err := finding.ParseSeverity(o.FailOn)
	if err != nil {
		return usageError(io, fs, fmt.Errorf("invalid --fail-on: %w", err))
	}
	out, w, closeOut, err := openOutput(o.Format, o.Output, io.Stdout)
	if err != nil {
		return usageError(io, fs, err)
	}
	p, err := planFor(run.FrontScan, o.settings(&lv, o.Paths))
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	defer run.CollectAt(run.ScanGCPercent)()
	src := &manifest.Source{Paths: o.Paths, Stdin: io.Stdin}
	sum, err := scanTo(ctx, src, p, o.Workers, out, w, io.Stderr)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: write report: %v\n", err)
		return ExitError
	}
	return statusOf(sum, failOn)
}

// scanTo scans src into a report in format out, written to w as the scan
// goes (every scan format can be), and says each input error on stderr as
// its place in the input is reached.
func scanTo(ctx context.Context, src *manifest.Source, p *run.Plan, workers int, out report.Output, w, stderr io.Writer) (report.Summary, error) {
	head := report.Head{Version: Version, Checks: p.Checks, Findings: p.Filter.Expired()}
	s, ok, err := report.NewStream(out, w, head)
	if err != nil {
		return report.Summary{}, err
	}
	if !ok {
		return report.Summary{}, fmt.Errorf("%T cannot be written as the scan goes", out)
	}
	err = run.Scan(ctx, src, p.Checks, p.Options, workers, p.Filter, sayErrors{s, stderr})
	if err == nil {
		err = s.Close()
	}
	return s.Summary(), err
}

// sayErrors is a Sink that says the input errors of each part on stderr
// before passing it on.
type sayErrors struct {
	report.Sink
	stderr io.Writer
}

func (s sayErrors) Write(p *report.Part) error {
	for _, e := range p.Errors {
		fmt.Fprintf(s.stderr, "kubeguard: %s\n", e.Error())
	}
	return s.Sink.Write(p)
}

// writeReport writes r and closes the output. A failure of either is said
// on stderr, and writeReport returns false.
func writeReport(stderr io.Writer, out report.Output, w io.Writer, closeOut func() error, r *report.Report) bool {
	werr := out.Write(w, r)
	if cerr := closeOut(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		fmt.Fprintf(stderr, "kubeguard: write report: %v\n", werr)
		return false
	}
	return true
}

// exitStatus is the exit status a report calls for (statusOf).
func exitStatus(r *report.Report, failOn finding.Severity) int {
	return statusOf(report.Summarize(r), failOn)
}

// statusOf is the exit status a report's counts call for: ExitError when
// some input could not be read, ExitFindings when a finding that is not
// suppressed is at or above failOn, ExitOK otherwise.
func statusOf(sum report.Summary, failOn finding.Severity) int {
	switch {
	case sum.Errors > 0:
		return ExitError
	case sum.Fails(failOn):
		return ExitFindings
	}
	return ExitOK
}

// openOutput picks the output format and destination. Colour is used only
// for text written to a terminal, and never when NO_COLOR is set.
func openOutput(format, path string, stdout io.Writer) (report.Output, io.Writer, func() error, error) {
	color := false
	if path == "" && format == "text" && os.Getenv("NO_COLOR") == "" {
		if f, ok := stdout.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				color = true
			}
		}
	}
	out, err := report.New(format, report.Options{Color: color})
	if err != nil {
		return nil, nil, nil, err
	}
	if path == "" {
		return out, stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--output: %w", err)
	}
	return out, f, f.Close, nil
}

// settings are the run settings the scan flags give.
func (o *ScanOptions) settings(lv *api.LevelVersion, searchFrom []string) run.Settings {
	return run.Settings{ConfigFile: o.Config, SearchFrom: searchFrom, Baseline: o.Baseline, NoAnnotations: o.NoSuppressions, PodSecurity: lv,
		NoRBACDefaults: o.NoDefaults}
}

// planFor is the checks a front runs with the settings applied.
func planFor(f run.Front, s run.Settings) (*run.Plan, error) {
	all, err := checks.All()
	if err != nil {
		return nil, err
	}
	return run.Configure(run.Checks(all, f), all, s)
}
