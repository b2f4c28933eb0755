// Package admission turns an AdmissionRequest into a decision. It has no
// HTTP: the webhook server decodes reviews and calls Review.
//
// Pod Security Admission is the upstream library k8s.io/pod-security-admission/admission,
// wired as the API server wires its built-in PodSecurity plugin, so that
// allowed, status message, reason, code, warnings and audit annotations are
// the built-in plugin's. On top of it, when the request is allowed:
//
//   - exemptions from the kubeguard configuration file naming pss-* checks
//     narrow Pod Security per namespace, ServiceAccount, image or container
//     (what the built-in exemptions, per user, namespace and runtime class,
//     cannot express);
//   - the kubeguard catalogue runs in warn or deny mode per namespace;
//   - workloads whose pod template enforce would reject can be denied, so
//     that a Deployment does not fail silently at the ReplicaSet.
package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
	psa "k8s.io/pod-security-admission/admission"
	psaconfig "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/api"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/run"
)

// NamespaceGetter returns a namespace by name; the webhook answers from an
// informer cache.
type NamespaceGetter interface {
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
}

// PodLister lists a namespace's pods, for the warnings Pod Security gives
// when a namespace's enforce level is raised.
type PodLister interface {
	ListPods(ctx context.Context, namespace string) ([]*corev1.Pod, error)
}

// ConfigSource returns the current kubeguard configuration, nil for none.
// The webhook reloads it when the file changes; Review asks once per
// request, so one request sees one configuration.
type ConfigSource interface {
	Current() *config.Config
}

// Recorder counts decisions for metrics. mode is a Pod Security mode
// (enforce, audit, warn), "exemption", "error", "checks" (the kubeguard
// catalogue) or "workload" (the deny-workloads mode); level is a Pod
// Security level or, for checks, the namespace's checks mode; result is
// allow or deny.
type Recorder interface {
	Record(mode, level, result string)
}

// Mode is how the kubeguard catalogue acts in a namespace.
type Mode string

// Modes of the kubeguard catalogue.
const (
	ModeOff  Mode = "off"  // not run
	ModeWarn Mode = "warn" // findings become warnings
	ModeDeny Mode = "deny" // findings at or above Config.DenySeverity deny the request
)

// ModeLabel on a namespace sets the catalogue's mode there, overriding
// Config.ChecksMode.
const ModeLabel = "kubeguard.io/checks"

// ParseMode parses a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeOff, ModeWarn, ModeDeny:
		return m, nil
	}
	return "", fmt.Errorf("invalid checks mode %q (want off, warn or deny)", s)
}

// Config configures a Reviewer.
type Config struct {
	// PodSecurity holds the defaults and exemptions (usernames, runtime
	// classes, namespaces) of Pod Security Admission, as in the API
	// server's AdmissionConfiguration; nil means privileged defaults and no
	// exemptions, the built-in plugin's own defaults.
	PodSecurity *psaconfig.PodSecurityConfiguration
	Namespaces  NamespaceGetter
	Pods        PodLister
	// Checks is the kubeguard catalogue (checks.All); Review runs those
	// that judge one object alone (run.FrontAdmission).
	Checks       []check.Check
	CheckOptions check.Options
	// ChecksMode applies in namespaces without ModeLabel; off when empty.
	ChecksMode Mode
	// DenySeverity is the lowest severity that denies in deny mode; lower
	// findings are warnings. High when zero.
	DenySeverity finding.Severity
	// Exemptions supplies the kubeguard configuration; nil for none.
	Exemptions ConfigSource
	// DenyWorkloads denies workload objects (Deployments, Jobs, ...) whose
	// pod template the namespace's enforce level would reject.
	DenyWorkloads bool
	Recorder      Recorder
	Logger        *slog.Logger
	// Now tells the time exemptions expire by; time.Now when nil.
	Now func() time.Time
}

// Reviewer decides admission requests. It is safe for concurrent use.
type Reviewer struct {
	cfg        Config
	klog       logr.Logger // the library logs through klog.FromContext
	psa        *psa.Admission
	evaluators *evaluators
	checks     []check.Check
	nsObjects  sync.Map // namespace name -> nsObject
}

// New builds a Reviewer, validating the Pod Security configuration as the
// API server does at start.
func New(cfg Config) (*Reviewer, error) {
	if cfg.Namespaces == nil || cfg.Pods == nil {
		return nil, errors.New("admission: a namespace getter and a pod lister are required")
	}
	if cfg.PodSecurity == nil {
		cfg.PodSecurity = DefaultPodSecurity()
	}
	if cfg.ChecksMode == "" {
		cfg.ChecksMode = ModeOff
	}
	if cfg.DenySeverity == 0 {
		cfg.DenySeverity = finding.High
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recorder == nil {
		cfg.Recorder = nopRecorder{}
	}
	ev, err := newEvaluators()
	if err != nil {
		return nil, err
	}
	a := &psa.Admission{
		Configuration:    cfg.PodSecurity,
		Evaluator:        ev.full,
		Metrics:          recorder{cfg.Recorder},
		PodSpecExtractor: psa.DefaultPodSpecExtractor{},
		NamespaceGetter:  cfg.Namespaces,
		PodLister:        cfg.Pods,
	}
	if err := a.CompleteConfiguration(); err != nil {
		return nil, fmt.Errorf("pod security configuration: %w", err)
	}
	if err := a.ValidateConfiguration(); err != nil {
		return nil, fmt.Errorf("pod security configuration: %w", err)
	}
	return &Reviewer{cfg: cfg, klog: logr.FromSlogHandler(cfg.Logger.Handler()), psa: a, evaluators: ev, checks: run.Checks(cfg.Checks, run.FrontAdmission)}, nil
}

// DefaultPodSecurity is the configuration the API server uses when none is
// given: privileged at the latest version, no exemptions.
func DefaultPodSecurity() *psaconfig.PodSecurityConfiguration {
	return &psaconfig.PodSecurityConfiguration{Defaults: psaconfig.PodSecurityDefaults{
		Enforce: string(api.LevelPrivileged), EnforceVersion: api.VersionLatest,
		Audit: string(api.LevelPrivileged), AuditVersion: api.VersionLatest,
		Warn: string(api.LevelPrivileged), WarnVersion: api.VersionLatest,
	}}
}

// applicable are the resources the built-in plugin looks at besides those
// with a pod template.
var (
	podsResource       = corev1.Resource("pods")
	namespacesResource = corev1.Resource("namespaces")
)

// Review decides one request. The response's UID is the request's. It
// never returns nil.
func (r *Reviewer) Review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := r.review(klog.NewContext(ctx, r.klog), req)
	resp.UID = req.UID
	return resp
}

func (r *Reviewer) review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	// The built-in plugin handles CREATE and UPDATE of pods, namespaces
	// and the kinds with a pod template, and admits everything else.
	gr := schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return &admissionv1.AdmissionResponse{Allowed: true}
	}
	if len(bytes.TrimSpace(req.Object.Raw)) == 0 || bytes.Equal(bytes.TrimSpace(req.Object.Raw), []byte("null")) {
		// The API server always sends the object of a CREATE or UPDATE;
		// a review without one was not written by it, and Pod Security's
		// library (and the workload denial) dereference the object.
		return &admissionv1.AdmissionResponse{Allowed: false, Result: &apierrors.NewBadRequest(
			fmt.Sprintf("%s request without an object", req.Operation)).ErrStatus}
	}
	cfg := r.currentConfig()
	attrs := requestAttributes(req)
	var resp *admissionv1.AdmissionResponse
	if gr == podsResource || gr == namespacesResource || r.psa.PodSpecExtractor.HasPodSpec(gr) {
		a := r.psa
		if ev := r.exemptEvaluator(ctx, cfg, req, attrs); ev != nil {
			// A shallow copy keeps the completed configuration and swaps
			// the evaluator for this request only.
			c := *r.psa
			c.Evaluator = ev
			a = &c
		}
		resp = copyResponse(a.Validate(ctx, attrs))
	} else {
		resp = &admissionv1.AdmissionResponse{Allowed: true}
	}
	if !resp.Allowed {
		return resp
	}
	if r.cfg.DenyWorkloads && gr != podsResource && gr != namespacesResource && req.SubResource == "" {
		if deny := r.denyWorkload(ctx, req, attrs); deny != nil {
			deny.AuditAnnotations = resp.AuditAnnotations
			return deny
		}
	}
	r.runChecks(ctx, cfg, req, resp)
	return resp
}

func (r *Reviewer) currentConfig() *config.Config {
	if r.cfg.Exemptions == nil {
		return nil
	}
	return r.cfg.Exemptions.Current()
}

// copyResponse copies what Review may change: the library's responses can
// be shared between requests.
func copyResponse(in *admissionv1.AdmissionResponse) *admissionv1.AdmissionResponse {
	out := *in
	out.Warnings = slices.Clone(in.Warnings)
	if in.AuditAnnotations != nil {
		out.AuditAnnotations = make(map[string]string, len(in.AuditAnnotations))
		for k, v := range in.AuditAnnotations {
			out.AuditAnnotations[k] = v
		}
	}
	return &out
}

// denyWorkload returns a denial when the object's pod template would be
// rejected by the namespace's enforce level, nil otherwise. On UPDATE it
// judges only a changed template, so that scaling or relabelling an old
// workload keeps working.
func (r *Reviewer) denyWorkload(ctx context.Context, req *admissionv1.AdmissionRequest, attrs api.Attributes) *admissionv1.AdmissionResponse {
	if slices.Contains(r.cfg.PodSecurity.Exemptions.Namespaces, req.Namespace) {
		return nil
	}
	obj, err := attrs.GetObject()
	if err != nil {
		return nil // Pod Security already recorded the decode error
	}
	meta, spec, err := r.psa.PodSpecExtractor.ExtractPodSpec(obj)
	if err != nil || spec == nil {
		return nil
	}
	if req.Operation == admissionv1.Update {
		if old, err := attrs.GetOldObject(); err == nil && old != nil {
			if oldMeta, oldSpec, err := r.psa.PodSpecExtractor.ExtractPodSpec(old); err == nil && oldSpec != nil &&
				reflect.DeepEqual(spec, oldSpec) && reflect.DeepEqual(meta.Labels, oldMeta.Labels) && reflect.DeepEqual(meta.Annotations, oldMeta.Annotations) {
				return nil
			}
		}
	}
	ns, err := r.cfg.Namespaces.GetNamespace(ctx, req.Namespace)
	if err != nil {
		return nil // fail open, as Pod Security does for workloads
	}
	policy, errs := r.psa.PolicyToEvaluate(ns.Labels)
	if len(errs) > 0 || policy.Enforce.Level == api.LevelPrivileged {
		return nil
	}
	// EvaluatePod with enforce=true judges the template as the pods it
	// will create will be judged; its message is the one they would get.
	res := r.psa.EvaluatePod(ctx, policy, nil, meta, spec, attrs, true)
	if res.Allowed {
		r.cfg.Recorder.Record("workload", string(policy.Enforce.Level), "allow")
		return nil
	}
	r.cfg.Recorder.Record("workload", string(policy.Enforce.Level), "deny")
	msg := "pod template " + strings.TrimPrefix(res.Result.Message, forbiddenPrefix(req))
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &apierrors.NewForbidden(
		schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}, req.Name,
		fmt.Errorf("%s (kubeguard denies workloads whose pods Pod Security would reject)", msg)).ErrStatus}
}

// forbiddenPrefix is what NewForbidden puts before the reason.
func forbiddenPrefix(req *admissionv1.AdmissionRequest) string {
	gr := schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}
	return apierrors.NewForbidden(gr, req.Name, errors.New("")).ErrStatus.Message
}

// nopRecorder records nothing.
type nopRecorder struct{}

func (nopRecorder) Record(string, string, string) {}

// statusDenied is a Forbidden status for the kubeguard catalogue.
func statusDenied(req *admissionv1.AdmissionRequest, reasons []string) *metav1.Status {
	gr := schema.GroupResource{Group: req.Resource.Group, Resource: req.Resource.Resource}
	return &apierrors.NewForbidden(gr, req.Name, fmt.Errorf("kubeguard: %s", strings.Join(reasons, "; "))).ErrStatus
}
