package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/suppress"
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
	// Namespace is where objects without one are applied (-n).
	Namespace string
	// Exclude are globs of paths the walk skips (--exclude, repeatable).
	Exclude []string
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
  kubeguard scan -n argocd install.yaml    # as kubectl apply -n argocd -f install.yaml

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

// gcPercent is the garbage collector's target during a scan (see runScan).
const gcPercent = 200

func runScan(ctx context.Context, args []string, io IO) int {
	var o ScanOptions
	fs := scanFlags(&o, io.Stderr)
	// Not in scanFlags, which cluster shares: its -n selects a namespace.
	fs.StringVar(&o.Namespace, "namespace", "", "judge objects without a namespace as applied with kubectl apply -n `namespace`")
	fs.StringVar(&o.Namespace, "n", "", "shorthand for --namespace")
	fs.Func("exclude", "skip paths matching `glob` in directories (relative path or name; repeatable; also exclude: in "+config.FileName+")", func(g string) error {
		o.Exclude = append(o.Exclude, g)
		return nil
	})
	paths, err := parse(fs, args)
	if err != nil {
		return usageError(io, fs, err)
	}
	o.Paths = paths
	if len(o.Paths) == 0 {
		return usageError(io, fs, fmt.Errorf("no paths given (use - for standard input)"))
	}
	if _, err := pss.LevelVersion(o.Level, o.PSSVersion); err != nil {
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
	all, err := checks.All()
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	cs, filter, opts, err := configure(&o, all)
	if err != nil {
		fmt.Fprintf(io.Stderr, "kubeguard: %v\n", err)
		return ExitError
	}
	// The RBAC checks read roles, bindings and workloads together, which
	// `kubeguard rbac risks` and `kubeguard cluster` do; a scan does not run
	// them, so its report does not list them as checks that ran.
	cs = slices.DeleteFunc(cs, func(c check.Check) bool { return c.Scope == check.ScopeRBAC })
	// Little stays live during a scan (the held input, the documents being
	// checked, the list of objects), so each collection is cheap, and the
	// garbage they leave is many times that. Collecting at three times the
	// live heap instead of twice takes about a fifth off the CPU time of a
	// large scan; more saves less CPU than the page faults of the larger
	// heap cost (BENCHMARKS.md).
	defer collectAt(gcPercent)()
	src := &manifest.Source{Paths: o.Paths, Stdin: io.Stdin, Exclude: o.Exclude}
	if filter != nil && filter.Config != nil {
		src.Exclude = append(src.Exclude, filter.Config.Exclude...)
	}
	if code, stop := sayCharts(src, io.Stderr); stop {
		return code
	}
	sum, err := scanTo(ctx, src, cs, opts, o.Workers, filter, out, w, io.Stderr)
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
func scanTo(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter, out report.Output, w, stderr io.Writer) (report.Summary, error) {
	head := report.Head{Version: Version, Checks: cs}
	if filter != nil {
		head.Findings = filter.Expired()
	}
	s, ok, err := report.NewStream(out, w, head)
	if err != nil {
		return report.Summary{}, err
	}
	if !ok {
		return report.Summary{}, fmt.Errorf("%T cannot be written as the scan goes", out)
	}
	err = Scan(ctx, src, cs, opts, workers, filter, sayErrors{s, stderr})
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

// configure applies the configuration file and flags: the checks to run,
// the suppression filter and the check options.
func configure(o *ScanOptions, all []check.Check) ([]check.Check, *suppress.Filter, check.Options, error) {
	opts := check.Options{PSSLevel: o.Level, PSSVersion: o.PSSVersion, Namespace: o.Namespace}
	filter := &suppress.Filter{NoAnnotations: o.NoSuppressions, Now: time.Now().UTC()}
	path := o.Config
	if path == "" {
		var err error
		if path, err = config.Find(o.Paths); err != nil {
			return nil, nil, opts, err
		}
	}
	known := func(id string) bool { return slices.ContainsFunc(all, func(c check.Check) bool { return c.ID == id }) }
	cs := all
	if path != "" {
		cfg, err := config.Load(path, known)
		if err != nil {
			return nil, nil, opts, fmt.Errorf("config: %w", err)
		}
		filter.Config = cfg
		opts.AllowedRegistries = cfg.Parameters.AllowedRegistries
		opts.TrustedHostPaths = cfg.Parameters.TrustedHostPaths
		cs = slices.DeleteFunc(slices.Clone(all), func(c check.Check) bool { return cfg.Disabled(c.ID) })
	}
	if o.Baseline != "" {
		b, err := suppress.LoadBaseline(o.Baseline)
		if err != nil {
			return nil, nil, opts, err
		}
		filter.Baseline = b
	}
	return cs, filter, opts, nil
}

// Scan reads the source and runs the checks over every object, in parallel,
// and hands each input document's objects, findings and errors to sink in
// input order; the findings known before the scan (expired exemptions) are
// not its to hand. Objects of the kinds checks need across the input
// (Namespaces) are collected first in a cheap pass that parses only
// documents naming them. The filter, when not nil, marks suppressed
// findings. It returns the first error of sink.Write; the scan goes on
// after one, so that every worker ends, but nothing more is written.
func Scan(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter, sink report.Sink) error {
	engine := check.NewEngine(cs, check.NewContext(opts, src.Collect(check.Needs(cs))))
	var (
		parts    = sync.Pool{New: func() any { return new(report.Part) }}
		findings = sync.Pool{New: func() any { return new([]finding.Finding) }}
	)
	// The errors of expanding the paths come first; then each file's
	// documents, in order, as soon as the ones before them are done.
	_, walkErrs := src.Files()
	first := parts.Get().(*report.Part)
	first.Errors = append(first.Errors, walkErrs...)
	err := sink.Write(first)
	manifest.Ordered(ctx, src, workers, func(u manifest.Unit) *report.Part {
		p := parts.Get().(*report.Part)
		p.Errors = append(p.Errors, u.Errors...)
		buf := findings.Get().(*[]finding.Finding)
		for _, obj := range u.Objects {
			fs, err := engine.RunAppend((*buf)[:0], obj)
			if filter != nil {
				filter.Apply(obj, fs)
			}
			if err != nil {
				loc := obj.Source
				if fe := (*object.FieldError)(nil); errors.As(err, &fe) {
					loc = fe.Location // the offending field, not the object
				}
				p.Errors = append(p.Errors, finding.InputError{Location: loc, Message: err.Error()})
			}
			sink.Encode(p, report.Object{Ref: obj.Ref, Location: obj.Source}, fs)
			// The findings are encoded: the list is the next object's.
			clear(fs)
			*buf = fs
		}
		findings.Put(buf)
		return p
	}, func(_ manifest.Unit, p *report.Part) {
		if err == nil {
			err = sink.Write(p)
		}
		p.Reset()
		parts.Put(p)
	})
	return err
}

// ScanReport is Scan into a whole report, with the expired exemptions
// first.
func ScanReport(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter) *report.Report {
	var c report.Collector
	if filter != nil {
		c.Report.Findings = filter.Expired()
	}
	Scan(ctx, src, cs, opts, workers, filter, &c) // a Collector's Write does not fail
	c.Report.Checks = cs
	return &c.Report
}
