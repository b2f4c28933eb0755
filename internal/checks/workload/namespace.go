package workload

import (
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
	"k8s.io/pod-security-admission/api"
)

// namespaceOf returns the Namespace the pass's object lives in, or nil when
// the input does not hold it. An object that names no namespace gets one
// only when it is applied, so it has none here either.
//
// The checks that read namespace labels say nothing when the Namespace is
// not in the input: they would be guessing, and the Pod Security checks
// already report the field itself.
func namespaceOf(p *check.Pass) *object.Object {
	ns := p.Object.Ref.Namespace
	if ns == "" {
		return nil
	}
	return p.Context.Lookup("Namespace", "", ns)
}

// enforcedLevel is the Pod Security level the API server enforces in a
// namespace with these labels, when the cluster's admission configuration
// keeps the built-in default (privileged). Invalid labels count as the API
// server counts them: an invalid enforce level is restricted.
func enforcedLevel(labels map[string]string) api.Level {
	privileged := api.LevelVersion{Level: api.LevelPrivileged, Version: api.LatestVersion()}
	policy, _ := api.PolicyToEvaluate(labels, api.Policy{Enforce: privileged, Audit: privileged, Warn: privileged})
	return policy.Enforce.Level
}
