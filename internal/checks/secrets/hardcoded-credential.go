package secrets

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// HardcodedCredential reports credentials written as plain values where no
// Secret protects them: container env values, ConfigMap data (whole values
// and the lines of configuration files held in them) and annotations. What
// counts as a credential, and which placeholders and references do not, is
// documented in credential.go. The finding names the key and the field,
// and the kind of credential; it never carries the value.
//
// Container commands and arguments (--password=..., mysql -p..., a URL
// with a password, PGPASSWORD=... in a shell command) and image references
// with a user and password before the registry are read too. The
// kubectl.kubernetes.io/last-applied-configuration annotation repeats the
// object, whose fields are judged themselves, except on a Secret: there it
// holds the Secret's data, in its metadata.
var HardcodedCredential = check.Check{
	ID:       "hardcoded-credential",
	Title:    "Credential hard-coded in a manifest",
	Severity: finding.High,
	Category: Category,
	Rationale: "The Kubernetes security checklist asks that ConfigMaps not hold confidential data, and the Secrets documentation " +
		"puts confidential data in Secrets so that it need not be written into application code or Pod specifications. A password, key " +
		"or token written as an env value, in a ConfigMap or in an annotation is readable by everyone who may read that object " +
		"(get on Deployments or ConfigMaps is granted far more widely than get on Secrets), is stored unencrypted even where " +
		"encryption at rest covers Secrets, and lives in version control with the manifest. Treat it as leaked: rotate it.",
	Remediation: "Rotate the credential, put it in a Secret (created from a secret manager, or sealed; see secret-in-manifest), " +
		"and reference it instead of the value, preferably as a file:\n" +
		"  containers:\n  - name: <container>\n    volumeMounts:\n    - name: <secret>\n      mountPath: <path>\n      readOnly: true\n" +
		"  volumes:\n  - name: <secret>\n    secret:\n      secretName: <secret>\n" +
		"or, where the program reads only its environment:\n" +
		"  containers:\n  - name: <container>\n    env:\n    - name: <VARIABLE>\n      valueFrom:\n        secretKeyRef:\n          name: <secret>\n          key: <key>",
	DocURL: "https://kubernetes.io/docs/concepts/security/security-checklist/#secrets",
	Kinds:  []string{check.AnyKind},
	Run: func(p *check.Pass) {
		o := p.Object
		annotationCredentials(p, object.Path{}.Keys("metadata", "annotations"), o.Annotations)
		if o.Ref.APIVersion == "v1" && o.Ref.Kind == "Secret" {
			const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
			if keys := lastAppliedData(o.Annotations[lastApplied]); len(keys) > 0 {
				p.Report(check.Diagnostic{
					Path:   object.Path{}.Keys("metadata", "annotations", lastApplied),
					Reason: "Secret data repeated in an annotation",
					Detail: "annotation " + quote(lastApplied) + " of Secret " + quote(o.Ref.Name) + " repeats its data (keys " +
						strings.Join(quoteAll(keys), ", ") + ") in the Secret's metadata, which metadata-only readers see and which is never " +
						"encrypted apart from the object" + notShown,
				})
			}
		}
		if o.Ref.APIVersion == "v1" && o.Ref.Kind == "ConfigMap" {
			configMapCredentials(p)
		}
		t := template(p)
		if t == nil {
			return
		}
		if !t.IsPod() {
			annotationCredentials(p, t.MetadataPath().Key("annotations"), t.Metadata.Annotations)
		}
		for _, c := range t.Containers() {
			if imageCredentials(c.Image) {
				p.Report(check.Diagnostic{
					Path:       c.Path.Key("image"),
					Containers: []string{c.Name},
					Reason:     "credential in an image reference",
					Detail:     "the image reference of container " + quote(c.Name) + " carries a user and password before its registry" + notShown,
				})
			}
			argv := slices.Concat(c.Command, c.Args)
			if len(argv) > 0 {
				found := argCredentials(argv)
				for i := range argv {
					whats := found[i]
					if len(whats) == 0 {
						continue
					}
					field, at := "command", i
					if i >= len(c.Command) {
						field, at = "args", i-len(c.Command)
					}
					p.Report(check.Diagnostic{
						Path:       c.Path.Key(field).Index(at),
						Containers: []string{c.Name},
						Reason:     "credential hard-coded in a command line",
						Detail:     field + "[" + strconv.Itoa(at) + "] of container " + quote(c.Name) + " holds " + and(whats) + notShown,
					})
				}
			}
			for k, e := range c.Env {
				if e.ValueFrom != nil {
					continue
				}
				whats := credentialKinds(e.Name, e.Value, true)
				if len(whats) == 0 {
					continue
				}
				where := "env var " + quote(e.Name) + " of container " + quote(c.Name)
				p.Report(check.Diagnostic{
					Path:       c.Path.Key("env").Index(k).Key("value"),
					Containers: []string{c.Name},
					Reason:     "credential hard-coded in an env var",
					Detail:     where + " holds " + and(whats) + notShown,
					Remediation: "Rotate the credential, put it in a Secret (created from a secret manager, or sealed; see secret-in-manifest; " +
						"named here after the object), and reference it instead of the value (its own fields; as a strategic merge patch):\n" +
						p.Object.Patch([]object.Change{
							{Path: c.Path.Key("env").Index(k).Key("value"), Remove: true},
							{Path: c.Path.Key("env").Index(k).Keys("valueFrom", "secretKeyRef"), Value: map[string]any{"name": p.Object.Ref.Name, "key": strings.ToLower(e.Name)}},
						}),
				})
			}
		}
	},
}

// notShown ends every detail of the check: it says what the reader will
// not find in the report, and why.
const notShown = "; the value is not shown"

// template is the object's pod template. The engine decodes it for checks
// of pod templates; a check of every kind decodes it itself, once per
// object, when no such check ran before it.
func template(p *check.Pass) *object.PodTemplate {
	if p.Template != nil {
		return p.Template
	}
	if _, ok := p.Object.TemplatePath(); !ok {
		return nil
	}
	t, _ := p.Memo("secrets/template", func() any {
		// A template that does not decode is reported by the checks of
		// pod templates, which the engine runs with the error.
		t, err := p.Object.PodTemplate()
		if err != nil {
			return (*object.PodTemplate)(nil)
		}
		return t
	}).(*object.PodTemplate)
	return t
}

// credentialKinds says what credentials a key and value hold: the value's
// credential shapes, or else a literal value of a credential-named key.
func credentialKinds(key, value string, weak bool) []string {
	whats := valueKinds(value)
	if len(whats) == 0 && sensitiveKey(key, weak) && literal(value) {
		whats = append(whats, "a literal value under a name that says it is a credential")
	}
	return whats
}

func annotationCredentials(p *check.Pass, path object.Path, annotations map[string]string) {
	for _, k := range sortedKeys(annotations) {
		if k == "kubectl.kubernetes.io/last-applied-configuration" {
			continue
		}
		whats := credentialKinds(k, annotations[k], false)
		if len(whats) == 0 {
			continue
		}
		p.Report(check.Diagnostic{
			Path:   path.Key(k),
			Reason: "credential hard-coded in an annotation",
			Detail: "annotation " + quote(k) + " holds " + and(whats) + notShown,
		})
	}
}

func configMapCredentials(p *check.Pass) {
	var data map[string]string
	if err := p.Object.Decode(object.Path{}.Key("data"), &data); err != nil {
		return // not a ConfigMap the API server accepts
	}
	for _, k := range sortedKeys(data) {
		v := data[k]
		whats := credentialKinds(k, v, true)
		if strings.Contains(v, "\n") {
			for _, l := range credentialLines(v) {
				whats = append(whats, fmt.Sprintf("a literal value for key %s (line %d)", quote(l.key), l.line))
			}
		}
		if len(whats) == 0 {
			continue
		}
		p.Report(check.Diagnostic{
			Path:   object.Path{}.Keys("data", k),
			Reason: "credential hard-coded in a ConfigMap",
			Detail: "ConfigMap " + quote(p.Object.Ref.Name) + " key " + quote(k) + " holds " + and(whats) + notShown,
		})
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// and joins phrases as a sentence does.
func and(list []string) string {
	if len(list) <= 1 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}
