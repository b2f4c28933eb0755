package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

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
	// Config is the .kubeguard.yaml to use; empty means search upwards to the repository's root
	// from the scanned paths.
	Config         string
	NoSuppressions bool
	Baseline       string
	// NoDefaults leaves the API server's built-in roles out of the RBAC
	// analysis that rates automounted tokens.
	NoDefaults bool
	// Namespace is where objects without one are applied (-n).
	Namespace string
	// AllowEmpty accepts input with no Kubernetes object in it.
	AllowEmpty bool
	// Compact writes the text report one line per finding.
	Compact bool
	// Exclude are globs of paths the walk skips (--exclude, repeatable).
	Exclude []string
	// Validate is strict (unknown fields are input errors, kubectl
	// apply's default) or ignore (they are dropped, as --validate=ignore
	// has kubectl drop them).
	Validate string
}

const scanHelp = `Usage: kubeguard scan [flags] PATH...

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
  kubeguard scan -n argocd install.yaml    # as kubectl apply -n argocd -f install.yaml
  kustomize build overlays/prod | kubeguard scan --level baseline -o sarif --output-file kubeguard.sarif -
  kubeguard scan --exclude vendor --exclude 'envs/*/generated' .
  kubeguard scan --validate=ignore manifests/   # fields of a newer Kubernetes

Configuration (.kubeguard.yaml, looked for from the scanned paths up to
their repository's root, or --config; the report names the file used)
disables checks, overrides severities, sets check parameters and exempts
objects, each exemption with a reason and an
optional expiry date. An object or pod template annotation
  kubeguard.io/ignore: "<check-id>[,<check-id>] -- <reason>"
waives checks for that object; kubeguard.io/ignore.<container> waives them
for one container. Waived findings are still reported, marked suppressed.

Exit status: 0 no finding at or above --fail-on, 1 such findings,
2 usage or input errors (unreadable files, invalid YAML, objects without
apiVersion or kind, objects the API server would refuse, such as a field
their kind lacks under --validate=strict; the rest of the input is still
scanned), and input
without any Kubernetes object (a mistyped path in CI scans nothing) unless
--allow-empty is given.

`

func scanFlags(o *ScanOptions) *flagSet {
	fs := newFlags("scan", scanHelp)
	checkFlags(fs, o)
	fs.BoolVar(&o.AllowEmpty, "allow-empty", false, "exit 0, not 2, when the input holds no Kubernetes object")
	// Not in checkFlags, which cluster shares: its -n selects a namespace.
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "judge objects without a namespace as applied with kubectl apply -n `namespace`")
	fs.StringVar(&o.Validate, "validate", "strict", "`mode` for fields the object's API type lacks, as kubectl apply's --validate: strict (an input error) or ignore (dropped)")
	fs.StringArrayVar(&o.Exclude, "exclude", nil, "skip paths matching `glob` in directories (relative path or name; repeatable; also exclude: in "+config.FileName+")")
	return fs
}

// validateFlag reads --validate, in kubectl apply's words: strict (or
// true) refuses unknown fields, ignore (or false) drops them. kubectl's
// warn has no counterpart: a scan's report has findings and errors, and
// an unknown field is not a finding.
func validateFlag(v string) (strict bool, err error) {
	switch v {
	case "strict", "true":
		return true, nil
	case "ignore", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid --validate %q (want strict or ignore)", v)
}

// checkFlags are the flags scan and cluster share: what to check, how to
// report it and when to fail.
func checkFlags(fs *flagSet, o *ScanOptions) {
	fs.StringVar(&o.Level, "level", "restricted", "Pod Security Standards `level` to check: baseline or restricted")
	fs.StringVar(&o.PSSVersion, "pss-version", "latest", fmt.Sprintf("Pod Security Standards `version`: latest or v1.0 ... %v", pss.NewestVersion()))
	fs.formatFlag(&o.Format, "text", "output `format`: text, json, sarif or junit")
	fs.StringVar(&o.Output, "output-file", "", "write the report to `file` instead of standard output")
	fs.BoolVar(&o.Compact, "compact", false, "text: one line per finding, without the fixes (kubeguard explain CHECK-ID shows them)")
	failOnFlag(fs, &o.FailOn)
	fs.IntVar(&o.Workers, "workers", 0, "documents checked in parallel (`n`; default: one per CPU)")
	fs.StringVar(&o.Config, "config", "", "configuration `file` (default: the nearest "+config.FileName+" above the scanned paths)")
	fs.BoolVar(&o.NoSuppressions, "no-suppressions", false, "ignore kubeguard.io/ignore annotations (strict CI); configured exemptions still apply")
	fs.StringVar(&o.Baseline, "baseline", "", "JSON report `file` of accepted findings: only findings not in it fail the scan")
	fs.BoolVar(&o.NoDefaults, "no-defaults", false, "leave the API server's built-in roles (cluster-admin, admin, edit, view, system:*) out of the RBAC analysis of ServiceAccount tokens")
}

// checkScanFlags checks the values of the flags checkFlags adds, and
// returns the Pod Security level and version they name.
func checkScanFlags(fs *flagSet, o *ScanOptions) (*api.LevelVersion, error) {
	if _, err := pss.LevelVersion(o.Level, "latest"); err != nil {
		return nil, fmt.Errorf("invalid --level: %w", err)
	}
	lv, err := pss.LevelVersion(o.Level, o.PSSVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid --pss-version: %w", err)
	}
	if fs.Changed("workers") && o.Workers < 1 {
		return nil, fmt.Errorf("invalid --workers %d (want 1 or more)", o.Workers)
	}
	return &lv, nil
}

func runScan(ctx context.Context, args []string, io IO) int {
	var o ScanOptions
	fs := scanFlags(&o)
	paths, code, ok := fs.parse(args, io)
	if !ok {
		return code
	}
	o.Paths = paths
	if len(o.Paths) == 0 {
		return fs.usageError(io, fmt.Errorf("no paths given (use - for standard input)"))
	}
	lv, err := checkScanFlags(fs, &o)
	if err != nil {
		return fs.usageError(io, err)
	}
	failOn, err := severityFlag("fail-on", o.FailOn)
	if err != nil {
		return fs.usageError(io, err)
	}
	strict, err := validateFlag(o.Validate)
	if err != nil {
		return fs.usageError(io, err)
	}
	out, w, closeOut, err := openOutput(o.Format, o.Output, o.Compact, io.Stdout)
	if err != nil {
		return fs.usageError(io, err)
	}
	s := o.settings(lv, o.Paths)
	s.StrictFields = strict
	p, err := planFor(run.FrontScan, s)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	defer run.CollectAt(run.ScanGCPercent)()
	if err := manifest.CheckExclude(o.Exclude); err != nil {
		return fs.usageError(io, fmt.Errorf("--exclude: %w", err))
	}
	src := &manifest.Source{Paths: o.Paths, Stdin: io.Stdin, Exclude: slices.Concat(o.Exclude, p.Exclude)}
	if code, stop := sayCharts(src, io.Stderr); stop {
		return code
	}
	for _, g := range src.Unmatched {
		// The configuration's exclude: list serves many scans, and need
		// not match in each; a flag is meant for this one.
		if slices.Contains(o.Exclude, g) {
			fmt.Fprintf(io.Stderr, "kubeguard: warning: --exclude %q matched no path under %s\n", g, strings.Join(quoted(o.Paths), ", "))
		}
	}
	sum, err := scanTo(ctx, src, p, o.Workers, out, w, errorsTo(o.Format, o.Output, io.Stdout, io.Stderr))
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: write report: %v\n", err)
		return ExitError
	}
	if sum.Objects == 0 && sum.Errors == 0 && !o.AllowEmpty {
		// An empty directory, a directory without manifests, empty
		// standard input: a gate that passes on nothing passes on a
		// mistyped path.
		fmt.Fprintf(io.Stderr, "kubeguard scan: no Kubernetes object found in %s (--allow-empty accepts that)\n", strings.Join(quoted(o.Paths), ", "))
		return ExitError
	}
	return statusOf(sum, failOn)
}

// quoted names the paths as a command line does, standard input as such.
// sayCharts says which Helm charts the walk skipped, and how to scan them:
// their templates are not YAML until rendered. When nothing but charts was
// found, the scan stops with an input error: a gate must not pass on a
// chart it never read.
func sayCharts(src *manifest.Source, stderr io.Writer) (int, bool) {
	files, _ := src.Files()
	for _, c := range src.Charts {
		fmt.Fprintf(stderr, "kubeguard: %s is a Helm chart: its templates are not manifests until rendered; scan its output: helm template %s | kubeguard scan -\n", c, c)
	}
	if len(src.Charts) > 0 && len(files) == 0 {
		fmt.Fprintf(stderr, "kubeguard: no manifests to scan besides Helm charts\n")
		return ExitError, true
	}
	return 0, false
}

func quoted(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if p == "-" {
			out[i] = "standard input"
		} else {
			out[i] = strconv.Quote(p)
		}
	}
	return out
}

// scanTo scans src into a report in format out, written to w as the scan
// goes (every scan format can be), and says each input error on stderr as
// its place in the input is reached.
func scanTo(ctx context.Context, src *manifest.Source, p *run.Plan, workers int, out report.Output, w, stderr io.Writer) (report.Summary, error) {
	head := report.Head{Version: version(), Checks: p.Checks, Findings: p.Filter.Expired()}
	if p.Filter != nil && p.Filter.Config != nil {
		head.Config = p.Filter.Config.Path
	}
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

// errorsTo is where input errors are said as they are met: standard
// error, unless a text report written to standard output lands where
// standard error does (one terminal, one pipe): that report names every
// input error itself, and saying them on standard error too would print
// each twice.
func errorsTo(format, path string, stdout, stderr io.Writer) io.Writer {
	if format != "text" || path != "" {
		return stderr
	}
	o, ok1 := stdout.(*os.File)
	e, ok2 := stderr.(*os.File)
	if !ok1 || !ok2 {
		return stderr
	}
	so, err1 := o.Stat()
	se, err2 := e.Stat()
	if err1 == nil && err2 == nil && os.SameFile(so, se) {
		return io.Discard
	}
	return stderr
}

// openOutput picks the output format and destination. Colour is used only
// for text written to a terminal, and never when NO_COLOR is set.
func openOutput(format, path string, compact bool, stdout io.Writer) (report.Output, io.Writer, func() error, error) {
	if err := oneOf("output", format, report.Formats); err != nil {
		return nil, nil, nil, err
	}
	color := false
	if path == "" && format == "text" && os.Getenv("NO_COLOR") == "" {
		if f, ok := stdout.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				color = true
			}
		}
	}
	out, err := report.New(format, report.Options{Color: color, Compact: compact})
	if err != nil {
		return nil, nil, nil, err
	}
	if path == "" {
		return out, stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--output-file: %w", err)
	}
	return out, f, f.Close, nil
}

// settings are the run settings the scan flags give.
func (o *ScanOptions) settings(lv *api.LevelVersion, searchFrom []string) run.Settings {
	return run.Settings{ConfigFile: o.Config, SearchFrom: searchFrom, Baseline: o.Baseline, NoAnnotations: o.NoSuppressions, PodSecurity: lv, NoRBACDefaults: o.NoDefaults, Namespace: o.Namespace}
}

// planFor is the checks a front runs with the settings applied.
func planFor(f run.Front, s run.Settings) (*run.Plan, error) {
	all, err := checks.All()
	if err != nil {
		return nil, err
	}
	return run.Configure(run.Checks(all, f), checks.Known, s)
}
