package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/internal/run"
	"github.com/kubeguard/kubeguard/internal/suppress"
)

// admissionSource names the request's object in findings.
var admissionSource = finding.Location{File: "admission request"}

// mode returns the catalogue's mode for the request: the namespace's label,
// else the configured default. A Namespace request reads the labels it
// brings.
func (r *Reviewer) mode(ctx context.Context, req *admissionv1.AdmissionRequest) (Mode, *corev1.Namespace) {
	var labels map[string]string
	var ns *corev1.Namespace
	switch {
	case req.Kind.Group == "" && req.Kind.Kind == "Namespace":
		var m struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if json.Unmarshal(req.Object.Raw, &m) == nil {
			labels = m.Metadata.Labels
		}
	case req.Namespace != "":
		if n, err := r.cfg.Namespaces.GetNamespace(ctx, req.Namespace); err == nil {
			ns, labels = n, n.Labels
		}
	}
	if v, ok := labels[ModeLabel]; ok {
		if m, err := ParseMode(v); err == nil {
			return m, ns
		}
		// A misspelt label must not switch enforcement off: the default
		// applies.
	}
	return r.cfg.ChecksMode, ns
}

// runChecks runs the kubeguard catalogue on an allowed request and adds
// its warnings, or turns the response into a denial in deny mode.
func (r *Reviewer) runChecks(ctx context.Context, cfg *config.Config, req *admissionv1.AdmissionRequest, resp *admissionv1.AdmissionResponse) {
	if len(r.checks) == 0 || req.SubResource != "" || len(req.Object.Raw) == 0 {
		return
	}
	mode, ns := r.mode(ctx, req)
	if mode == ModeOff {
		return
	}
	if ctx.Err() != nil {
		return
	}
	root, err := manifest.ParseYAML(req.Object.Raw)
	if err != nil {
		return // Pod Security already judged the object; nothing to add
	}
	obj, err := object.New(root, admissionSource, 0)
	if err != nil {
		return
	}
	var needs []*object.Object
	if ns != nil {
		if o, err := r.namespaceObject(ns); err == nil {
			needs = append(needs, o)
		}
	}
	// Disabled checks and parameters reload with the file, as exemptions
	// do.
	cs, opts := run.Apply(r.checks, cfg, r.cfg.CheckOptions)
	fs, err := check.NewEngine(cs, check.NewContext(opts, needs)).RunContext(ctx, obj)
	if ctx.Err() != nil {
		return // answered already (timed out): the rest is wasted work
	}
	if err != nil {
		r.cfg.Logger.DebugContext(ctx, "kubeguard checks could not decode the object", "error", err)
	}
	// Annotations never waive findings here: whoever writes the object
	// would be waiving their own findings. Only the operator's
	// configuration exempts.
	now := r.cfg.Now()
	(&suppress.Filter{Config: cfg, NoAnnotations: true, Now: now}).Apply(obj, fs)
	subjectExemptions(cfg, obj, fs, now)

	var denied []string
	for _, f := range fs {
		if f.Suppressed != nil {
			continue
		}
		msg := describe(f)
		if mode == ModeDeny && f.Severity >= r.cfg.DenySeverity {
			denied = append(denied, msg)
			continue
		}
		resp.Warnings = append(resp.Warnings, "kubeguard: "+msg)
	}
	if len(denied) > 0 {
		r.cfg.Recorder.Record("checks", string(mode), "deny")
		resp.Allowed = false
		resp.Result = statusDenied(req, denied)
		return
	}
	r.cfg.Recorder.Record("checks", string(mode), "allow")
}

// describe is one line about a finding: check, severity, reason, where.
// It leaves out the detail, which may quote values from the object.
func describe(f finding.Finding) string {
	s := fmt.Sprintf("%s (%s): %s", f.CheckID, f.Severity, f.Reason)
	if f.Path != "" {
		s += " at " + f.Path
	}
	return s
}

// subjectExemptions applies the exemptions scoped by ServiceAccount or
// image, which only admission can judge: the scan's filter leaves them out.
func subjectExemptions(cfg *config.Config, obj *object.Object, fs []finding.Finding, now time.Time) {
	if cfg == nil {
		return
	}
	var scoped []*config.Exemption
	for i := range cfg.Exemptions {
		if e := &cfg.Exemptions[i]; e.ServiceAccount != "" || e.Image != "" {
			scoped = append(scoped, e)
		}
	}
	if len(scoped) == 0 {
		return
	}
	tmpl, err := obj.PodTemplate()
	if err != nil || tmpl == nil {
		return
	}
	sa, imgs := serviceAccount(&tmpl.Spec), images(&tmpl.Spec)
	for i := range fs {
		f := &fs[i]
		if f.Suppressed != nil {
			continue
		}
		for _, e := range scoped {
			if !e.Expired(now) && e.MatchesSubject(f.CheckID, f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Containers, sa, imgs) {
				f.Suppressed = &finding.Suppression{Kind: "exemption", Reason: e.Reason, Location: &finding.Location{File: cfg.Path, Line: e.Line}}
				break
			}
		}
	}
}

// namespaceObject turns a cached Namespace into the object form checks
// read, once per namespace and resource version: converting costs more
// than the checks that read it.
func (r *Reviewer) namespaceObject(ns *corev1.Namespace) (*object.Object, error) {
	key := ns.Name + "/" + ns.ResourceVersion
	if v, ok := r.nsObjects.Load(ns.Name); ok && v.(nsObject).key == key && ns.ResourceVersion != "" {
		return v.(nsObject).obj, nil
	}
	o, err := convertNamespace(ns)
	if err == nil {
		r.nsObjects.Store(ns.Name, nsObject{key, o})
	}
	return o, err
}

// nsObject is a converted namespace and the version it was converted at.
type nsObject struct {
	key string
	obj *object.Object
}

func convertNamespace(ns *corev1.Namespace) (*object.Object, error) {
	n := ns.DeepCopy()
	n.APIVersion, n.Kind = "v1", "Namespace"
	n.ManagedFields = nil
	b, err := json.Marshal(n)
	if err != nil {
		return nil, err
	}
	root, err := manifest.ParseYAML(b)
	if err != nil {
		return nil, err
	}
	return object.New(root, admissionSource, 0)
}
