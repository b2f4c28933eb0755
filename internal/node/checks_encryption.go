package node

import (
	"slices"
	"strings"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// EncryptionVerdict is how the API server stores one resource.
type EncryptionVerdict struct {
	Resource string
	// Writer is the provider new writes use: identity (plain text),
	// aescbc, aesgcm, secretbox or kms; "" when no configuration is in
	// effect (plain text).
	Writer string
	// KMSAPIVersion is v1 or v2 when Writer is kms.
	KMSAPIVersion string
	// Loc is the rule (or the provider) that decided.
	Loc    finding.Location
	Config *EncryptionConfig
}

// Plaintext reports whether new writes of the resource are stored as they
// are.
func (v EncryptionVerdict) Plaintext() bool { return v.Writer == "" || v.Writer == Identity }

// Encryption returns how an API server stores a resource, exactly as it
// loads its configuration; nil config means none is in effect.
func Encryption(config *EncryptionConfig, resource string) EncryptionVerdict {
	v := EncryptionVerdict{Resource: resource, Config: config}
	if config == nil {
		return v
	}
	ps, where := config.Providers(resource)
	v.Loc = where
	if len(ps) > 0 {
		v.Writer, v.KMSAPIVersion, v.Loc = ps[0].Type, ps[0].KMSAPIVersion, ps[0].Loc
	}
	return v
}

// apiServerEncryption returns the EncryptionConfiguration an API server
// runs with, nil when none, and whether judging must stop (the API server
// would not start).
func apiServerEncryption(n *Node, c *CommandLine) (*EncryptionConfig, Setting, bool) {
	s := c.Setting("encryption-provider-config")
	if s.Value == "" {
		return nil, s, true
	}
	if _, bad := n.EncryptionErrs[n.Host.Display(n.Host.Path(s.Value))]; bad {
		return nil, s, false
	}
	if _, bad := n.EncryptionErrs[s.Value]; bad {
		return nil, s, false
	}
	cfg := n.Encryption[n.Host.Display(n.Host.Path(s.Value))]
	return cfg, s, cfg != nil
}

// judgedResources are the resources judged for every configuration
// (Secrets, whose values are the point of encryption at rest) and every
// resource and wildcard it names.
func judgedResources(cfg *EncryptionConfig) []string {
	rs := []string{"secrets"}
	if cfg != nil {
		for _, r := range cfg.Named() {
			if r != "secrets" {
				rs = append(rs, r)
			}
		}
	}
	return rs
}

func encryptionChecks() []Check {
	return []Check{
		{Check: meta("encryption-secrets-plaintext", "Secrets stored in etcd in plain text", finding.Medium,
			"Without an encrypting provider first for Secrets, every Secret value is readable in etcd, its backups and its disks.",
			"Set --encryption-provider-config to an EncryptionConfiguration whose first provider for secrets is kms (apiVersion v2), then rewrite the Secrets (kubectl get secrets -A -o json | kubectl replace -f -).", docEncryption),
			CIS: []string{"1.2.27", "1.2.28"}, run: func(n *Node, r *reporter) {
				for _, cfg := range standalone(n) {
					secretsPlaintext(r, cfg)
				}
				each(n, APIServer, func(c *CommandLine) {
					cfg, s, ok := apiServerEncryption(n, c)
					if !ok && s.Value != "" {
						return // reported as an error: the API server would not start
					}
					if cfg == nil {
						r.setting(c.Ref, s, "no EncryptionConfiguration: Secrets are stored in plain text")
						return
					}
					secretsPlaintext(r, cfg)
				})
			}},
		{Check: meta("encryption-weak-provider", "Resources encrypted with aescbc", finding.Low,
			"aescbc is no longer recommended: CBC is open to padding-oracle attacks and the key sits on the control plane's disk.",
			"Make kms (apiVersion v2) the first provider, keep aescbc after it to read old data, and rewrite the resources.", docEncryption),
			CIS: []string{"1.2.28"}, run: func(n *Node, r *reporter) {
				eachEncryption(n, func(cfg *EncryptionConfig, v EncryptionVerdict) {
					if v.Writer == AESCBC {
						r.report(cfg.Ref(), v.Loc, v.Resource+" are written with aescbc", "")
					}
				})
			}},
		{Check: meta("encryption-kms-v1", "Resources encrypted with KMS v1", finding.Low,
			"KMS v1 is deprecated and off by default since v1.29; v2 performs better and supports key rotation without rewriting every object.",
			"Move the plugin to kms apiVersion: v2, keeping the v1 provider after it until the resources are rewritten.", docKMS),
			CIS: []string{"1.2.28"}, run: func(n *Node, r *reporter) {
				each(n, APIServer, func(c *CommandLine) {
					cfg, _, ok := apiServerEncryption(n, c)
					if !ok || cfg == nil {
						return
					}
					p, uses := cfg.UsesKMSv1()
					if !uses {
						return
					}
					if on, _ := featureGate(c.Setting("feature-gates"), "KMSv1"); !on {
						r.errorf(p.Loc, "KMS v1 provider %q without --feature-gates=KMSv1=true: the API server refuses this configuration", p.Name)
						return
					}
					r.report(cfg.Ref(), p.Loc, "KMS v1 provider "+p.Name+" is deprecated", "")
				})
			}},
		{Check: meta("encryption-local-key", "Resources encrypted with a key kept on the control plane", finding.Info,
			"aesgcm and secretbox are sound ciphers, but their keys sit in the configuration file beside the data they protect, and aesgcm keys must be rotated every 200,000 writes.",
			"Prefer kms (apiVersion v2); otherwise rotate the keys (add a new first key, restart, rewrite, remove the old key), for aesgcm before 200,000 writes.", docEncryption),
			CIS: []string{"1.2.28"}, run: func(n *Node, r *reporter) {
				eachEncryption(n, func(cfg *EncryptionConfig, v EncryptionVerdict) {
					switch v.Writer {
					case AESGCM:
						r.report(cfg.Ref(), v.Loc, v.Resource+" are written with aesgcm: rotate its key every 200,000 writes", "")
					case Secretbox:
						r.report(cfg.Ref(), v.Loc, v.Resource+" are written with secretbox: its key is on the control plane's disk; rotate it", "")
					}
				})
			}},
	}
}

// eachEncryption runs f for every judged resource of every configuration
// an API server loads.
func eachEncryption(n *Node, f func(cfg *EncryptionConfig, v EncryptionVerdict)) {
	for _, cfg := range standalone(n) {
		for _, res := range judgedResources(cfg) {
			f(cfg, Encryption(cfg, res))
		}
	}
	each(n, APIServer, func(c *CommandLine) {
		cfg, _, ok := apiServerEncryption(n, c)
		if !ok || cfg == nil {
			return
		}
		for _, res := range judgedResources(cfg) {
			f(cfg, Encryption(cfg, res))
		}
	})
}

func providerTypes(ps []EncProvider) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Type)
	}
	return strings.Join(out, ", ")
}

// secretsPlaintext reports a configuration under which Secrets are
// written in plain text.
func secretsPlaintext(r *reporter, cfg *EncryptionConfig) {
	v := Encryption(cfg, "secrets")
	switch v.Writer {
	case "":
		r.report(cfg.Ref(), cfg.Loc, "no resource list covers secrets: they are stored in plain text", "")
	case Identity:
		detail := "identity is the first provider for secrets: new writes are stored in plain text"
		if ps, _ := cfg.Providers("secrets"); len(ps) > 1 {
			detail += "; the later providers (" + providerTypes(ps[1:]) + ") only read what was written with them"
		}
		r.report(cfg.Ref(), v.Loc, "Secrets are written in plain text", detail)
	}
}

// standalone returns the configurations read when no API server was
// found (a file given by path), judged as an API server would load them.
func standalone(n *Node) []*EncryptionConfig {
	if slices.ContainsFunc(n.Components, func(c *CommandLine) bool { return c.Component == APIServer }) {
		return nil
	}
	keys := make([]string, 0, len(n.Encryption))
	for k := range n.Encryption {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*EncryptionConfig, 0, len(keys))
	for _, k := range keys {
		out = append(out, n.Encryption[k])
	}
	return out
}
