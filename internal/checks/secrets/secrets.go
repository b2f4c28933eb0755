// Package secrets holds the checks of how manifests carry and hand out
// confidential data: Secret values written into the manifests themselves,
// credentials hard-coded where no Secret protects them, and Secrets given
// to more of a pod than needs them, as the Kubernetes Secrets good
// practices ask.
//
// No check of this package ever puts a value it reads into a finding: a
// finding names the object, the key and the field, and says what kind of
// value it found there.
package secrets

import (
	"strconv"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Category is the category of every check of this package.
const Category = "Secrets"

// goodPractices is the Kubernetes Secrets good practices document.
const goodPractices = "https://kubernetes.io/docs/concepts/security/secrets-good-practices/"

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	SecretInManifest,
	SecretEnvVar,
	HardcodedCredential,
	SecretVolumeAllContainers,
}

// ServiceAccountTokenType is the type of legacy long-lived ServiceAccount
// token Secrets, which package serviceaccount reports.
const ServiceAccountTokenType = "kubernetes.io/service-account-token"

// isSecret tells a core Secret from a custom kind of the same name.
func isSecret(o *object.Object) bool {
	return o.Ref.APIVersion == "v1" && o.Ref.Kind == "Secret"
}

// Source says how a pod reaches a Secret.
type Source int

// The ways a pod spec names a Secret.
const (
	// Volume is a volume of type secret.
	Volume Source = iota
	// Projected is a secret source of a projected volume.
	Projected
	// EnvVar is an env var's valueFrom.secretKeyRef.
	EnvVar
	// EnvFrom is a container's envFrom secretRef.
	EnvFrom
	// ImagePull is an entry of imagePullSecrets.
	ImagePull
)

// Reference is one place where a pod template names a Secret.
type Reference struct {
	Secret string
	Source Source
	// Path is the field holding the Secret's name.
	Path object.Path
	// Container names the container of an env reference; Volume is the
	// volume of a volume reference and Env the variable of an EnvVar one.
	Container, Volume, Env string
}

// Where says in words where the reference is.
func (r Reference) Where() string {
	switch r.Source {
	case Volume:
		return "volume " + quote(r.Volume)
	case Projected:
		return "projected volume " + quote(r.Volume)
	case EnvVar:
		return "env var " + quote(r.Env) + " of container " + quote(r.Container)
	case EnvFrom:
		return "envFrom of container " + quote(r.Container)
	}
	return "imagePullSecrets"
}

// References lists every Secret a pod template names, in the order of its
// volumes, its containers (init, regular, ephemeral) and its
// imagePullSecrets. References without a name, which the API server
// rejects, are left out.
func References(t *object.PodTemplate) []Reference {
	var out []Reference
	add := func(r Reference) {
		if r.Secret != "" {
			out = append(out, r)
		}
	}
	vols := t.SpecPath().Key("volumes")
	for i, v := range t.Spec.Volumes {
		if v.Secret != nil {
			add(Reference{Secret: v.Secret.SecretName, Source: Volume, Volume: v.Name, Path: vols.Index(i).Keys("secret", "secretName")})
		}
		if v.Projected != nil {
			for j, s := range v.Projected.Sources {
				if s.Secret != nil {
					add(Reference{Secret: s.Secret.Name, Source: Projected, Volume: v.Name,
						Path: vols.Index(i).Keys("projected", "sources").Index(j).Keys("secret", "name")})
				}
			}
		}
	}
	for _, c := range t.Containers() {
		for k, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(Reference{Secret: e.ValueFrom.SecretKeyRef.Name, Source: EnvVar, Container: c.Name, Env: e.Name,
					Path: c.Path.Key("env").Index(k).Keys("valueFrom", "secretKeyRef", "name")})
			}
		}
		for k, e := range c.EnvFrom {
			if e.SecretRef != nil {
				add(Reference{Secret: e.SecretRef.Name, Source: EnvFrom, Container: c.Name,
					Path: c.Path.Key("envFrom").Index(k).Keys("secretRef", "name")})
			}
		}
	}
	for i, s := range t.Spec.ImagePullSecrets {
		add(Reference{Secret: s.Name, Source: ImagePull, Path: t.SpecPath().Key("imagePullSecrets").Index(i).Key("name")})
	}
	return out
}

func quote(s string) string { return strconv.Quote(s) }

func itoa(n int) string { return strconv.Itoa(n) }

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = quote(s)
	}
	return out
}
