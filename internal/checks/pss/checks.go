package pss

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

const (
	docBaseline   = "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"
	docRestricted = "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"
)

// meta is what kubeguard adds to an upstream check.
type meta struct {
	title       string
	severity    finding.Severity
	rationale   string
	remediation string
}

var metas = map[policy.CheckID]meta{
	"allowPrivilegeEscalation": {"Privilege escalation allowed", finding.High,
		"Restricted: containers must not be able to gain more privileges than their parent process (setuid binaries, file capabilities).",
		"Set in every container:\n  securityContext:\n    allowPrivilegeEscalation: false"},
	"appArmorProfile": {"AppArmor profile unconfined", finding.High,
		"Baseline: the default AppArmor profile must not be overridden or disabled; only RuntimeDefault or Localhost profiles are allowed.",
		"Remove the Unconfined profile, or set:\n  securityContext:\n    appArmorProfile:\n      type: RuntimeDefault"},
	"capabilities_baseline": {"Non-default capabilities added", finding.High,
		"Baseline: adding capabilities beyond the container runtime's default set must be disallowed.",
		"Remove the capabilities from securityContext.capabilities.add; only the runtime's default set is allowed."},
	"capabilities_restricted": {"Capabilities not restricted", finding.Medium,
		"Restricted: containers must drop ALL capabilities and may only add back NET_BIND_SERVICE.",
		"Set in every container:\n  securityContext:\n    capabilities:\n      drop: [\"ALL\"]\nand add back at most NET_BIND_SERVICE."},
	"hostNamespaces": {"Host namespaces shared", finding.Critical,
		"Baseline: sharing the host's network, PID or IPC namespace must be disallowed.",
		"Remove hostNetwork, hostPID and hostIPC from the pod spec, or set them to false."},
	"hostPathVolumes": {"HostPath volume", finding.High,
		"Baseline: HostPath volumes must be forbidden; they expose the node's filesystem.",
		"Replace the hostPath volume with an emptyDir, a ConfigMap/Secret, or a PersistentVolumeClaim."},
	"hostPorts": {"Host port", finding.Medium,
		"Baseline: HostPorts should be disallowed entirely, or restricted to a known list.",
		"Remove hostPort from the container ports and expose the pod through a Service."},
	"hostProbesAndHostLifecycle": {"Probe or lifecycle hook with a host", finding.Medium,
		"Baseline: probes and lifecycle handlers must not set a host, which lets a pod make the kubelet reach other addresses.",
		"Remove the host field from httpGet and tcpSocket probes and lifecycle handlers."},
	"privileged": {"Privileged container", finding.Critical,
		"Baseline: privileged pods disable most security mechanisms and must be disallowed.",
		"Remove securityContext.privileged, or set:\n  securityContext:\n    privileged: false"},
	"procMount": {"Unmasked /proc", finding.High,
		"Baseline: the default /proc masks are set up to reduce attack surface and should be required.",
		"Remove securityContext.procMount, or set it to Default."},
	"procMount_restricted": {"Unmasked /proc", finding.High,
		"Restricted: the default /proc masks are required, even in a user namespace.",
		"Remove securityContext.procMount, or set it to Default."},
	"restrictedVolumes": {"Restricted volume type", finding.Medium,
		"Restricted: only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes are allowed.",
		"Replace the volume with an allowed type, such as a persistentVolumeClaim or emptyDir."},
	"runAsNonRoot": {"May run as root", finding.High,
		"Restricted: containers must be required to run as non-root users.",
		"Set at pod level (or in every container):\n  securityContext:\n    runAsNonRoot: true"},
	"runAsUser": {"Runs as UID 0", finding.High,
		"Restricted: containers must not set runAsUser to 0.",
		"Set a non-zero user:\n  securityContext:\n    runAsUser: 10001"},
	"seLinuxOptions": {"Custom SELinux options", finding.High,
		"Baseline: setting a custom SELinux user or role is forbidden, and the type is limited to the container types.",
		"Remove seLinuxOptions.user and role, and use type container_t (or container_init_t, container_kvm_t, container_engine_t)."},
	"seccompProfile_baseline": {"Seccomp unconfined", finding.High,
		"Baseline: the seccomp profile must not be explicitly set to Unconfined.",
		"Remove the Unconfined profile, or set:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault"},
	"seccompProfile_restricted": {"Seccomp profile not RuntimeDefault or Localhost", finding.Medium,
		"Restricted: a seccomp profile must be set to RuntimeDefault or Localhost.",
		"Set at pod level:\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault"},
	"sysctls": {"Unsafe sysctls", finding.High,
		"Baseline: sysctls can disable security mechanisms or affect every container on a host; only the safe subset is allowed.",
		"Remove the sysctl from securityContext.sysctls, or use only the safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ...)."},
	"windowsHostProcess": {"Windows HostProcess container", finding.Critical,
		"Baseline: Windows HostProcess containers have privileged access to the host and must be disallowed.",
		"Remove securityContext.windowsOptions.hostProcess, or set it to false."},
}

// Checks returns one check per upstream Pod Security check, all sharing one
// evaluation per object.
func Checks(e *Evaluator) []check.Check {
	var ids []policy.CheckID
	for id := range e.Checks() {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []check.Check
	for _, id := range ids {
		m, ok := metas[id]
		if !ok {
			// An upstream check this version of kubeguard does not know:
			// still report it, with generic words.
			m = meta{title: string(id), severity: finding.High,
				rationale:   "A Pod Security Standards control.",
				remediation: "See the Pod Security Standards for the allowed values."}
		}
		doc, category := docBaseline, "Pod Security Standards (baseline)"
		if e.Checks()[id].Level == api.LevelRestricted {
			doc, category = docRestricted, "Pod Security Standards (restricted)"
		}
		out = append(out, check.Check{
			ID:          ID(id),
			Title:       m.title,
			Severity:    m.severity,
			Category:    category,
			Rationale:   m.rationale,
			Remediation: m.remediation,
			DocURL:      doc,
			Kinds:       []string{check.PodTemplates},
			Needs:       []string{"Namespace"},
			Run:         run(e, id),
			// The webhook runs the upstream plugin itself, which answers
			// for these, message for message.
			SkipAdmission: "Pod Security Admission answers for it",
		})
	}
	return out
}

// ID is the kubeguard check ID of an upstream check.
func ID(id policy.CheckID) string { return "pss-" + string(id) }

func run(e *Evaluator, id policy.CheckID) func(*check.Pass) {
	return func(p *check.Pass) {
		v := p.Memo("pss", func() any { return evaluate(e, p) }).(verdicts)
		r, ok := v[id]
		if !ok {
			return
		}
		spots := locate(id, p.Template, r.Detail)
		var containers []string
		for _, s := range spots {
			if s.container != "" && !slices.Contains(containers, s.container) {
				containers = append(containers, s.container)
			}
		}
		// The finding points at the first spot the manifest spells out:
		// a field the API server derives (an AppArmor field from its
		// annotation) is not where the user edits.
		at := spots[0].path
		if i := slices.IndexFunc(spots, func(s spot) bool { return p.Object.Field(s.path) != nil }); i > 0 && p.Object.Field(at) == nil {
			at = spots[i].path
		}
		d := check.Diagnostic{
			Path:       at,
			Containers: containers,
			Reason:     r.Reason,
			Detail:     r.Detail,
			Admission:  r.admission,
		}
		if ops := fixOps(p.Object, id, p.Template, spots); len(ops) > 0 {
			d.Remediation = "Change " + p.Object.Ref.Kind + " " + strconv.Quote(p.Object.Ref.Name) +
				" so (its own fields; null removes one; as a strategic merge patch):\n" + p.Object.Patch(ops)
		}
		p.Report(d)
	}
}

type verdict struct {
	Result
	admission []string
}

type verdicts map[policy.CheckID]*verdict

// evaluate runs the upstream checks for the scan's level and version and,
// when the input holds the object's Namespace, for each mode of its Pod
// Security labels, following Pod Security Admission: a Pod is judged at
// enforce, audited, and warned about only when enforce lets it in; a
// workload's template is only warned about and audited.
func evaluate(e *Evaluator, p *check.Pass) verdicts {
	t := p.Template
	out := verdicts{}
	add := func(results []Result, note string) {
		for _, r := range results {
			v := out[r.ID]
			if v == nil {
				v = &verdict{Result: r}
				out[r.ID] = v
			}
			if note != "" {
				v.admission = append(v.admission, note)
			}
		}
	}
	eval := withOverridden(e.Pod(&t.Metadata, &t.Spec))
	if lv := p.Context.Options.PodSecurity; lv != nil {
		add(eval(*lv), "")
	}
	ns := p.Object.Ref.Namespace
	nsObj := p.Context.Lookup("Namespace", "", ns)
	if ns == "" || nsObj == nil {
		return out
	}
	privileged := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	// Invalid labels fall back the way the API server's do (an invalid
	// enforce level means restricted); namespace checks report them.
	policy, _ := api.PolicyToEvaluate(nsObj.Labels, api.Policy{Enforce: privileged, Audit: privileged, Warn: privileged})
	kind := p.Object.Ref.Kind
	enforced := eval(policy.Enforce)
	rejected := t.IsPod() && len(enforced) > 0
	// Notes are written only for verdicts that carry them, and each
	// distinct one once per scan (they are the same for every object of a
	// kind in a namespace).
	if len(enforced) > 0 {
		add(enforced, e.note(noteKey{mode: enforceMode, lv: policy.Enforce, kind: kind, pod: t.IsPod()}))
	}
	if audited := eval(policy.Audit); len(audited) > 0 {
		add(audited, e.note(noteKey{mode: auditMode, lv: policy.Audit, kind: kind}))
	}
	if !rejected {
		if warned := eval(policy.Warn); len(warned) > 0 {
			add(warned, e.note(noteKey{mode: warnMode, lv: policy.Warn, kind: kind}))
		}
	}
	return out
}

// withOverridden makes a restricted evaluation also answer the baseline
// checks that upstream's restricted checks override (capabilities_baseline
// by capabilities_restricted, seccompProfile_baseline by
// seccompProfile_restricted, hostPathVolumes by restrictedVolumes, procMount
// by procMount_restricted). Upstream reports only the overriding check at
// restricted, which is right for admission (one verdict suffices to reject)
// but hides what is wrong: an added SYS_ADMIN, a seccomp profile of
// Unconfined or a hostPath would come out as the milder restricted verdict
// ("drop ALL", "set a profile") at the stricter level. The baseline verdicts
// are upstream's own, at baseline and the same version; a baseline check
// that restricted does not override fails at both levels alike, so adding
// the baseline failures not already present adds exactly the overridden
// ones.
func withOverridden(eval func(api.LevelVersion) []Result) func(api.LevelVersion) []Result {
	return func(lv api.LevelVersion) []Result {
		results := eval(lv)
		if lv.Level != api.LevelRestricted {
			return results
		}
		var extra []Result
		for _, r := range eval(api.LevelVersion{Level: api.LevelBaseline, Version: lv.Version}) {
			if !slices.ContainsFunc(results, func(x Result) bool { return x.ID == r.ID }) {
				extra = append(extra, r)
			}
		}
		if extra == nil {
			return results
		}
		return slices.Concat(results, extra)
	}
}

// Pod Security Admission modes, for noteKey.
const (
	enforceMode = iota
	auditMode
	warnMode
)

// noteKey names an admission note: what Pod Security Admission would do
// in one mode at one level and version with an object of one kind.
type noteKey struct {
	mode int
	lv   api.LevelVersion
	kind string
	pod  bool // the object is a Pod, which enforce judges itself
}

// note returns the admission note of k, writing it once.
func (e *Evaluator) note(k noteKey) string {
	if v, ok := e.notes.Load(k); ok {
		return v.(string)
	}
	var s string
	switch {
	case k.mode == enforceMode && k.pod:
		s = fmt.Sprintf("enforce=%s: the API server would reject this Pod", k.lv)
	case k.mode == enforceMode:
		s = fmt.Sprintf("enforce=%s: Pod Security Admission does not check workload templates, so this %s is accepted but the API server would reject every Pod it creates", k.lv, k.kind)
	case k.mode == auditMode:
		s = fmt.Sprintf("audit=%s: the API server would record the violation in the audit log for this %s", k.lv, k.kind)
	default:
		s = fmt.Sprintf("warn=%s: the API server would return a warning to the client applying this %s", k.lv, k.kind)
	}
	v, _ := e.notes.LoadOrStore(k, s)
	return v.(string)
}

// LevelVersion parses a level and version as the --level and --pss-version
// flags take them.
func LevelVersion(level, version string) (api.LevelVersion, error) {
	l, err := api.ParseLevel(level)
	if err != nil || l == api.LevelPrivileged {
		return api.LevelVersion{}, fmt.Errorf("unknown level %q (want baseline or restricted)", level)
	}
	if version == "" {
		version = "latest"
	}
	v, err := api.ParseVersion(strings.TrimSpace(version))
	newest := NewestVersion()
	if err != nil {
		return api.LevelVersion{}, fmt.Errorf("unknown Pod Security Standards version %q (want latest or v1.0 ... %v)", version, newest)
	}
	if !v.Latest() && newest.Older(v) {
		// The API server evaluates a namespace label of a later version
		// as latest; a flag asking for it is a mistake to say.
		return api.LevelVersion{}, fmt.Errorf("policy version %q is newer than %v, the newest Pod Security Standards version this kubeguard knows (want latest or v1.0 ... %v)", version, newest, newest)
	}
	return api.LevelVersion{Level: l, Version: v}, nil
}

// NewestVersion is the newest concrete policy version the vendored Pod
// Security library defines: the highest version at which one of its
// checks changed. Every later version evaluates as it does.
var NewestVersion = sync.OnceValue(func() api.Version {
	newest := api.MajorMinorVersion(1, 0)
	for _, c := range policy.DefaultChecks() {
		for _, v := range c.Versions {
			if newest.Older(v.MinimumVersion) {
				newest = v.MinimumVersion
			}
		}
	}
	return newest
})
