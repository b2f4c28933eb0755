package admission

import (
	"context"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/metrics"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeguard/kubeguard/internal/config"
)

// scheme knows the kinds Pod Security looks at, in the external v1 types
// the library expects, and nothing else.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, admissionv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // static registration of upstream types
		}
	}
	return s
}()

// decoder decodes the objects of a request as the library's own wiring
// does (the universal deserializer of scheme), with a shortcut for the
// usual case; see fastDecoder.
var decoder runtime.Decoder = fastDecoder{slow: serializer.NewCodecFactory(scheme).UniversalDeserializer()}

// recorder adapts a Recorder to the library's metrics interface.
type recorder struct{ r Recorder }

func (m recorder) RecordEvaluation(d metrics.Decision, lv api.LevelVersion, mode metrics.Mode, _ api.Attributes) {
	m.r.Record(string(mode), string(lv.Level), string(d))
}

func (m recorder) RecordExemption(api.Attributes) { m.r.Record("exemption", "", "allow") }

func (m recorder) RecordError(fatal bool, _ api.Attributes) {
	result := "allow"
	if fatal {
		result = "deny"
	}
	m.r.Record("error", "", result)
}

// evaluators hands out Pod Security evaluators without some checks, for
// requests covered by kubeguard exemptions of pss-* checks. Each is built
// by the upstream registry from the upstream checks, so what remains is
// judged exactly as before.
type evaluators struct {
	full   policy.Evaluator
	checks []policy.Check
	mu     sync.Mutex
	cache  map[string]policy.Evaluator // sorted IDs kept (or dropped) -> evaluator
}

func newEvaluators() (*evaluators, error) {
	checks := policy.DefaultChecks()
	full, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		return nil, err
	}
	return &evaluators{full: full, checks: checks, cache: map[string]policy.Evaluator{}}, nil
}

// subset returns an evaluator of the checks for which keep is true.
func (e *evaluators) subset(keep func(policy.CheckID) bool) policy.Evaluator {
	var ids []string
	var checks []policy.Check
	for _, c := range e.checks {
		if keep(c.ID) {
			ids = append(ids, string(c.ID))
			checks = append(checks, c)
		}
	}
	key := strings.Join(ids, ",")
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev, ok := e.cache[key]; ok {
		return ev
	}
	ev, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		// A subset of valid checks is valid; keep the full evaluator
		// rather than admit what it would not.
		return e.full
	}
	if len(e.cache) < 256 { // bounded: keys come from the configuration
		e.cache[key] = ev
	}
	return ev
}

// split evaluates some checks on the whole pod and others on the pod with
// the containers that exemptions cover removed, one part per set of
// exemption scopes.
type split struct {
	whole policy.Evaluator
	parts []part
}

type part struct {
	ev     policy.Evaluator
	exempt func(name, image string) bool
}

func (s split) EvaluatePod(lv api.LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []policy.CheckResult {
	res := s.whole.EvaluatePod(lv, meta, spec)
	for _, p := range s.parts {
		trimmed := *spec
		trimmed.InitContainers = slices.DeleteFunc(slices.Clone(spec.InitContainers), func(c corev1.Container) bool { return p.exempt(c.Name, c.Image) })
		trimmed.Containers = slices.DeleteFunc(slices.Clone(spec.Containers), func(c corev1.Container) bool { return p.exempt(c.Name, c.Image) })
		trimmed.EphemeralContainers = slices.DeleteFunc(slices.Clone(spec.EphemeralContainers), func(c corev1.EphemeralContainer) bool { return p.exempt(c.Name, c.Image) })
		res = append(res, p.ev.EvaluatePod(lv, meta, &trimmed)...)
	}
	return res
}

// scope is the container and image globs of a scoped exemption.
type scope struct{ container, image string }

// exemptEvaluator returns an evaluator that honours the configuration's
// unexpired exemptions of pss-* checks covering this request, or nil when
// none does. An exemption without container or image scope drops its
// checks for the object; one with either judges its checks on the pod
// without the containers it covers.
func (r *Reviewer) exemptEvaluator(ctx context.Context, cfg *config.Config, req *admissionv1.AdmissionRequest, attrs api.Attributes) policy.Evaluator {
	if cfg == nil || len(cfg.Exemptions) == 0 || req.Kind.Kind == "Namespace" {
		return nil
	}
	now := r.cfg.Now()
	var relevant []*config.Exemption
	for i := range cfg.Exemptions {
		e := &cfg.Exemptions[i]
		if !e.Expired(now) && slices.ContainsFunc(r.evaluators.checks, func(c policy.Check) bool {
			return slices.ContainsFunc(e.Checks, func(g string) bool { return globMatch(g, "pss-"+string(c.ID)) })
		}) {
			relevant = append(relevant, e)
		}
	}
	if len(relevant) == 0 {
		return nil
	}
	obj, err := attrs.GetObject()
	if err != nil || obj == nil {
		return nil
	}
	_, spec, err := r.psa.PodSpecExtractor.ExtractPodSpec(obj)
	if err != nil || spec == nil {
		return nil
	}
	sa, imgs := serviceAccount(spec), images(spec)
	dropped := map[policy.CheckID]bool{}
	scoped := map[policy.CheckID][]scope{}
	for _, c := range r.evaluators.checks {
		id := "pss-" + string(c.ID)
		for _, e := range relevant {
			if e.MatchesSubject(id, req.Kind.Kind, req.Namespace, req.Name, nil, sa, imgs) {
				dropped[c.ID] = true
				continue
			}
			if (e.Container == "" || e.Container == "*") && (e.Image == "" || e.Image == "*") {
				continue
			}
			// A container- or image-scoped exemption covers containers,
			// never the pod: ask the rest of it about the pod.
			rest := *e
			rest.Container, rest.Image = "", ""
			if rest.MatchesSubject(id, req.Kind.Kind, req.Namespace, req.Name, nil, sa, nil) {
				scoped[c.ID] = append(scoped[c.ID], scope{e.Container, e.Image})
			}
		}
	}
	if len(dropped) == 0 && len(scoped) == 0 {
		return nil
	}
	r.cfg.Logger.DebugContext(ctx, "kubeguard exemptions narrow pod security", "namespace", req.Namespace, "name", req.Name, "kind", req.Kind.Kind)
	s := split{whole: r.evaluators.subset(func(id policy.CheckID) bool { return !dropped[id] && scoped[id] == nil })}
	groups := map[string][]scope{}
	groupOf := map[policy.CheckID]string{}
	for id, sc := range scoped {
		if dropped[id] {
			continue
		}
		var k strings.Builder
		for _, x := range sc {
			k.WriteString(x.container + "\x00" + x.image + "\x00")
		}
		groups[k.String()], groupOf[id] = sc, k.String()
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		sc := groups[k]
		s.parts = append(s.parts, part{
			ev: r.evaluators.subset(func(id policy.CheckID) bool { return groupOf[id] == k }),
			exempt: func(name, image string) bool {
				return slices.ContainsFunc(sc, func(x scope) bool { return globMatch(x.container, name) && globMatch(x.image, image) })
			},
		})
	}
	return s
}

// globMatch matches as the configuration does: an empty pattern matches
// anything.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func serviceAccount(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	return "default"
}

// images maps every container of the pod to its image.
func images(spec *corev1.PodSpec) map[string]string {
	m := make(map[string]string, len(spec.InitContainers)+len(spec.Containers)+len(spec.EphemeralContainers))
	for _, c := range spec.InitContainers {
		m[c.Name] = c.Image
	}
	for _, c := range spec.Containers {
		m[c.Name] = c.Image
	}
	for _, c := range spec.EphemeralContainers {
		m[c.Name] = c.Image
	}
	return m
}
