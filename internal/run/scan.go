package run

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/netpol"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/report"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// ScanGCPercent is the garbage collector's target during a scan: little
// stays live (the held input, the documents being checked, the list of
// objects), so each collection is cheap, and the garbage they leave is
// many times that. Collecting at three times the live heap instead of
// twice takes about a fifth off the CPU time of a large scan; more saves
// less CPU than the page faults of the larger heap cost (BENCHMARKS.md).
const ScanGCPercent = 200

// Scan reads the source and runs the checks over every object, in parallel,
// and hands each input document's objects, findings and errors to sink in
// input order; the findings known before the scan (expired exemptions) are
// not its to hand. Objects of the kinds checks need across the input
// (Namespaces) are collected first in a cheap pass that parses only
// documents naming them. The filter, when not nil, marks suppressed
// findings. It returns the first error of sink.Write; the scan goes on
// after one, so that every worker ends, but nothing more is written.
func Scan(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter, sink report.Sink) error {
	needs := check.Needs(cs)
	cctx := check.NewContext(opts, src.Collect(collectKinds(needs)))
	if slices.Contains(needs, check.PodTemplates) && len(cctx.List(networkPolicyKind)) > 0 {
		cctx.SetPods(summarize(src, opts.Namespace))
	}
	engine := check.NewEngine(cs, cctx)
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
				// At the offending field, not the object.
				p.Errors = append(p.Errors, finding.InputError{Location: object.ErrorLocation(err, obj.Source), Message: err.Error()})
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

// networkPolicyKind is the kind whose checks ask for the summary of the
// input's pods: without one in the input, the summary is not made.
const networkPolicyKind = "NetworkPolicy"

// collectKinds are the kinds Collect reads for checks that need them:
// needs, less PodTemplates (summarised, not kept), plus NetworkPolicy when
// PodTemplates is asked for, which says whether the summary is worth
// making.
func collectKinds(needs []string) []string {
	if !slices.Contains(needs, check.PodTemplates) {
		return needs
	}
	kinds := slices.DeleteFunc(slices.Clone(needs), func(k string) bool { return k == check.PodTemplates })
	if !slices.Contains(kinds, networkPolicyKind) {
		kinds = append(kinds, networkPolicyKind)
	}
	return kinds
}

// summarize reads the pod templates of the input into the compact summary
// checks relate NetworkPolicies to, in a pass before the main one that
// keeps no object: a document is parsed twice, which an input without
// NetworkPolicies does not pay. Objects without a namespace get the one
// the scan applies, as the main pass gives them.
func summarize(src *manifest.Source, namespace string) *netpol.Pods {
	pods := netpol.NewPods()
	src.Visit(func(doc []byte) bool { return manifest.Mentions(doc, "containers") || customResource(doc) }, func(o *object.Object) {
		if o.ApplyNamespace(namespace) != nil {
			return
		}
		t, err := o.PodTemplate()
		switch {
		case err == nil && t != nil && !isPodTemplateKind(o):
			pods.Add(o.Ref.Namespace, t) // an error is the main pass's to report
		case netpol.MayMakePods(o.Ref.APIVersion):
			pods.AddOpaque(o.Ref.Namespace)
		}
	})
	return pods
}

// customResource reports whether a document may be a custom resource
// (netpol.MayMakePods), by the text of its apiVersion lines: a group with
// a dot that does not end in .k8s.io. It only spares parsing the others.
func customResource(doc []byte) bool {
	for rest := doc; ; {
		i := bytes.Index(rest, []byte("apiVersion"))
		if i < 0 {
			return false
		}
		rest = rest[i+len("apiVersion"):]
		line := rest
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		line = bytes.Trim(line, " \t\r\":,'{}")
		if k := bytes.IndexAny(line, " \t\"',}"); k >= 0 {
			line = line[:k]
		}
		if netpol.MayMakePods(string(line)) {
			return true
		}
	}
}

// isPodTemplateKind reports whether o is a v1 PodTemplate, which creates
// no pod.
func isPodTemplateKind(o *object.Object) bool {
	return o.Ref.APIVersion == "v1" && o.Ref.Kind == "PodTemplate"
}

// ScanReport is Scan into a whole report, with the expired exemptions
// first.
func ScanReport(ctx context.Context, src *manifest.Source, cs []check.Check, opts check.Options, workers int, filter *suppress.Filter) *report.Report {
	var c report.Collector
	if filter != nil {
		c.Report.Findings = filter.Expired()
		if filter.Config != nil {
			c.Report.Config = filter.Config.Path
		}
	}
	Scan(ctx, src, cs, opts, workers, filter, &c) // a Collector's Write does not fail
	c.Report.Checks = cs
	return &c.Report
}
