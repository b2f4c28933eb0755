package secrets

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// SecretInManifest reports core Secrets whose data or stringData holds a
// value: the manifest carries the secret itself, base64 being an encoding,
// not encryption. One finding per field that holds values; it names the
// keys, never the values. SealedSecrets (bitnami.com) and ExternalSecrets
// (external-secrets.io) are other kinds and never fire. Legacy
// ServiceAccount token Secrets are left to service-account-legacy-token,
// which says what to do about them.
var SecretInManifest = check.Check{
	ID:       "secret-in-manifest",
	Title:    "Secret values in the manifest",
	Severity: finding.Medium,
	Category: Category,
	Rationale: "The Kubernetes Secrets good practices warn against sharing Secret manifests: a Secret's data is base64-encoded, " +
		"not encrypted, so a manifest that holds it — in version control, a CI log, a rendered chart — discloses the secret to " +
		"everyone who can read it, for as long as the history lasts. Keep the values out of the manifests: encrypt them for " +
		"the cluster (a SealedSecret, which only the controller in the cluster can decrypt), or keep them in a secret manager " +
		"and let the cluster fetch them (an ExternalSecret, or the Secrets Store CSI driver).",
	Remediation: "Replace the Secret with a SealedSecret made by kubeseal:\n" +
		"  kubeseal --format yaml < secret.yaml > sealed-secret.yaml\n" +
		"  apiVersion: bitnami.com/v1alpha1\n  kind: SealedSecret\n  metadata:\n    name: db-credentials\n    namespace: shop\n" +
		"  spec:\n    encryptedData:\n      password: <output of kubeseal>\n" +
		"or with an ExternalSecret that reads a secret manager:\n" +
		"  apiVersion: external-secrets.io/v1\n  kind: ExternalSecret\n  metadata:\n    name: db-credentials\n    namespace: shop\n" +
		"  spec:\n    refreshInterval: 1h\n    secretStoreRef:\n      kind: ClusterSecretStore\n      name: <store>\n" +
		"    target:\n      name: db-credentials\n    data:\n    - secretKey: password\n      remoteRef:\n        key: <key in the store>\n        property: password\n" +
		"and rotate every value the manifest has held.",
	DocURL: goodPractices + "#avoid-sharing-secret-manifests",
	Kinds:  []string{"Secret"},
	Run: func(p *check.Pass) {
		o := p.Object
		if !isSecret(o) {
			return
		}
		var typ string
		if err := o.Decode(object.Path{}.Key("type"), &typ); err != nil || typ == ServiceAccountTokenType {
			return
		}
		for _, field := range []string{"data", "stringData"} {
			keys := valueKeys(o, field)
			if len(keys) == 0 {
				continue
			}
			noun, shown := "the value of key", "the value is not shown"
			if len(keys) > 1 {
				noun, shown = "the values of "+itoa(len(keys))+" keys", "the values are not shown"
			}
			what := "base64-encoded, not encrypted"
			if field == "stringData" {
				what = "in plain text"
			}
			p.Report(check.Diagnostic{
				Remediation: sealed(o.Ref.Namespace, o.Ref.Name, keys),
				Path:        object.Path{}.Key(field),
				Reason:      "Secret " + field + " in the manifest",
				Detail: "Secret " + quote(o.Ref.Name) + " holds " + noun + " " + strings.Join(quoteAll(keys), ", ") +
					" in " + field + ", " + what + "; " + shown,
			})
		}
	},
}

// sealed is the secret-in-manifest fix for Secret ns/name with keys: the
// same Secret sealed by kubeseal, or read from a secret manager by an
// ExternalSecret, its keys named and no value written. The store and where
// each value lives in it are the cluster's: slots to fill.
func sealed(ns, name string, keys []string) string {
	var meta, enc, data strings.Builder
	meta.WriteString("  metadata:\n    name: " + name + "\n")
	if ns != "" {
		meta.WriteString("    namespace: " + ns + "\n")
	}
	for _, k := range keys {
		enc.WriteString("\n      " + strconv.Quote(k) + ": <output of kubeseal>")
		data.WriteString("\n    - secretKey: " + strconv.Quote(k) + "\n      remoteRef:\n        key: <key in the store>\n        property: " + strconv.Quote(k))
	}
	return "Rotate every value the manifest has held, and replace the Secret with a SealedSecret made by kubeseal " +
		"(kubeseal --format yaml < the Secret's manifest):\n" +
		"  apiVersion: bitnami.com/v1alpha1\n  kind: SealedSecret\n" + meta.String() + "  spec:\n    encryptedData:" + enc.String() + "\n" +
		"or with an ExternalSecret that reads a secret manager:\n" +
		"  apiVersion: external-secrets.io/v1\n  kind: ExternalSecret\n" + meta.String() +
		"  spec:\n    refreshInterval: 1h\n    secretStoreRef:\n      kind: ClusterSecretStore\n      name: <store>\n" +
		"    target:\n      name: " + name + "\n    data:" + data.String()
}

// valueKeys returns the keys of a Secret's data or stringData that hold a
// non-empty value, sorted. The values are read only to tell empty from not.
func valueKeys(o *object.Object, field string) []string {
	var m map[string]string
	if err := o.Decode(object.Path{}.Key(field), &m); err != nil {
		return nil // a Secret the API server rejects
	}
	var keys []string
	for k, v := range m {
		if v != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
