package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/internal/checks/pss"
	rbacchecks "github.com/kubeguard/kubeguard/internal/checks/rbac"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
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

// gcPercent is the garbage collector's target during a scan (see runScan).
const gcPercent = 200

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
	cs = slices.DeleteFunc(cs, func(c check.Check) bool { return c.Category == rbacchecks.Category })
	// A scan keeps every finding until the report is written (the report
	// opens with their summary), so most of the heap is live and every
	// collection marks it again. Collecting when the heap is three times
	// the live data instead of twice takes about a tenth off the CPU time
	// of a large scan for about a fifth more peak memory (BENCHMARKS.md).
	defer collectAt(gcPercent)()
	src := &manifest.Source{Paths: o.Paths, Stdin: io.Stdin}
	r := Scan(ctx, src, cs, opts, o.Workers, filter)
	r.Version = Version

	for _, e := range r.Errors {
		fmt.Fprintf(io.Stderr, "kubeguard: %s\n", e.Error())
	}
	if !writeReport(io.Stderr, out, w, closeOut, r) {
		return ExitError
	}
	return exitStatus(r, failOn)
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

// exitStatus is the exit status a report calls for: ExitError when some
// input could not be read, ExitFindings when a finding that is not
// suppressed is at or above failOn, ExitOK otherwise.
func exitStatus(r *report.Report, failOn finding.Severity) int {
	switch {
	case len(r.Errors) > 0:
		return ExitError
	case slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.Suppressed == nil && f.Severity >= failOn }):
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
	opts := check.Options{PSSLevel: o.Level, PSSVersion: o.PSSVersion}
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

// Scan reads the source and runs the checks over every object, in parallel.
// Objects of the kinds checks need across the input (Namespaces) are
// collected first in a cheap pass that parses only documents naming them.
// The filter, when not nil, marks suppressed findings.
func Scan(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter) *report.Report {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	engine := check.NewEngine(cs, check.NewContext(opts, src.Collect(check.Needs(cs))))
	type result struct {
		file, doc int
		objects   []report.Object
		findings  []finding.Finding
		errors    []finding.InputError
	}
	var (
		mu      sync.Mutex
		results []result
		bufs    sync.Pool // *findingBuf
	)
	readErrs := src.Stream(ctx, workers, func(u manifest.Unit) {
		res := result{file: u.FileSeq, doc: u.DocSeq, errors: u.Errors}
		buf, _ := bufs.Get().(*findingBuf)
		if buf == nil {
			buf = &findingBuf{}
		}
		w := buf.window()
		fs := w
		for _, obj := range u.Objects {
			res.objects = append(res.objects, report.Object{Ref: obj.Ref, Location: obj.Source})
			n := len(fs)
			var err error
			fs, err = engine.RunAppend(fs, obj)
			if filter != nil {
				filter.Apply(obj, fs[n:])
			}
			if err != nil {
				res.errors = append(res.errors, finding.InputError{Location: obj.Source, Message: err.Error()})
			}
		}
		res.findings = buf.keep(w, fs)
		bufs.Put(buf)
		mu.Lock()
		results = append(results, res)
		mu.Unlock()
	})
	slices.SortFunc(results, func(a, b result) int {
		if a.file != b.file {
			return a.file - b.file
		}
		return a.doc - b.doc
	})
	r := &report.Report{Checks: cs, Errors: readErrs}
	if filter != nil {
		r.Findings = filter.Expired()
	}
	// Size the lists once: findings are large, and growing a list of a
	// hundred thousand of them by doubling copies it again and again.
	var nobj, nfind, nerr int
	for _, res := range results {
		nobj, nfind, nerr = nobj+len(res.objects), nfind+len(res.findings), nerr+len(res.errors)
	}
	r.Objects = slices.Grow(r.Objects, nobj)
	r.Findings = slices.Grow(r.Findings, nfind)
	r.Errors = slices.Grow(r.Errors, nerr)
	for _, res := range results {
		r.Objects = append(r.Objects, res.objects...)
		r.Findings = append(r.Findings, res.findings...)
		r.Errors = append(r.Errors, res.errors...)
	}
	return r
}

// findingBuf is where a worker keeps the findings of the documents it
// checks: in blocks of a few thousand, each document's findings appended
// straight into the free end of the current block. A list per document
// grown by doubling allocated about twice the findings a scan keeps (each
// a few hundred bytes), and copying each document's list into a block
// after the checks was a copy of every finding.
type findingBuf struct {
	block []finding.Finding
}

// findingBlock is the number of findings kept in one allocation.
const findingBlock = 4096

// window returns the free end of the block, where the next document's
// findings go; a new block when the current one is full.
func (b *findingBuf) window() []finding.Finding {
	if len(b.block) == cap(b.block) {
		b.block = make([]finding.Finding, 0, findingBlock)
	}
	return b.block[len(b.block):len(b.block)]
}

// keep returns the findings fs appended to window w, and keeps them in
// the block when they were written into it.
func (b *findingBuf) keep(w, fs []finding.Finding) []finding.Finding {
	if len(fs) == 0 {
		return nil
	}
	if &fs[0] == &w[:1][0] {
		b.block = b.block[:len(b.block)+len(fs)]
		return fs[:len(fs):len(fs)]
	}
	// The document outgrew the free end, and append moved its findings to
	// a list of their own, which is kept as it is. What append wrote into
	// the free end before is cleared, so that it keeps nothing alive, and
	// the next document starts a new block: the free end is too small for
	// documents like this one.
	clear(b.block[len(b.block):cap(b.block)])
	b.block = nil
	return fs
}
