package node

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// Provider types of an EncryptionConfiguration.
const (
	Identity  = "identity"
	AESCBC    = "aescbc"
	AESGCM    = "aesgcm"
	Secretbox = "secretbox"
	KMS       = "kms"
)

// groupResource is a resource as the API server keys its transformers:
// "secrets" is {"", "secrets"}, "*." is {"", "*"}, "*.*" is {"*", "*"},
// "deployments.apps" is {"apps", "deployments"}.
type groupResource struct{ group, resource string }

func parseGroupResource(s string) groupResource {
	// The API server splits at the first dot (schema.ParseGroupResource).
	if r, g, ok := strings.Cut(s, "."); ok {
		return groupResource{g, r}
	}
	return groupResource{"", s}
}

func (gr groupResource) String() string {
	switch {
	case gr.group == "" && gr.resource == "*":
		return "*."
	case gr.group == "":
		return gr.resource
	}
	return gr.resource + "." + gr.group
}

var anyGroupAnyResource = groupResource{"*", "*"}

// EncProvider is one provider of a resource list.
type EncProvider struct {
	Type string
	// KMSAPIVersion is v1 or v2 for a kms provider (v1 when unset, as the
	// API server defaults it).
	KMSAPIVersion string
	// Name is the KMS plugin's name, or the first key's name.
	Name string
	Loc  finding.Location
}

// encEntry is one item of resources: its resources and providers.
type encEntry struct {
	resources []string
	locs      []finding.Location
	providers []EncProvider
}

// EncryptionConfig is an EncryptionConfiguration as the API server loads
// it.
type EncryptionConfig struct {
	// File is the path shown in reports.
	File    string
	Loc     finding.Location
	entries []encEntry
	// transformers maps each resource or wildcard to its providers, the
	// earlier entries' first, exactly as the API server builds them.
	transformers map[groupResource][]EncProvider
	// first locates each resource or wildcard where it is first named.
	first map[groupResource]finding.Location
}

// Ref names the file in findings.
func (c *EncryptionConfig) Ref() finding.ObjectRef {
	return finding.ObjectRef{APIVersion: "apiserver.config.k8s.io/v1", Kind: "EncryptionConfiguration", Name: c.File}
}

// keyLengths are the key sizes (bytes) the API server accepts per provider.
var keyLengths = map[string][]int{AESCBC: {16, 24, 32}, AESGCM: {16, 24, 32}, Secretbox: {32}}

// readEncryptionConfig reads and validates an EncryptionConfiguration the
// way the API server does: whatever it would refuse to start with is an
// error here. No key material ever reaches an error message.
func readEncryptionConfig(file string, root *yaml.Node) (*EncryptionConfig, error) {
	apiVersion, kind := header(root)
	if kind != "EncryptionConfiguration" || apiVersion != "apiserver.config.k8s.io/v1" {
		return nil, fmt.Errorf("not an apiserver.config.k8s.io/v1 EncryptionConfiguration (apiVersion %q, kind %q)", apiVersion, kind)
	}
	c := &EncryptionConfig{File: file, Loc: finding.Location{File: file}, transformers: map[groupResource][]EncProvider{}, first: map[groupResource]finding.Location{}}
	if k := keyNode(root, "kind"); k != nil {
		c.Loc.Line = k.Line
	}
	list := items(get(root, "resources"))
	if len(list) == 0 {
		return nil, fmt.Errorf("%s: at least one resources is required", c.Loc)
	}
	kmsNames := map[string]bool{}
	for i, item := range list {
		pos := func(n *yaml.Node) string { return fmt.Sprintf("%s:%d", file, n.Line) }
		var e encEntry
		rs := items(get(item, "resources"))
		if len(rs) == 0 {
			return nil, fmt.Errorf("%s: resources[%d].resources: at least one resource is required", pos(item), i)
		}
		for _, r := range rs {
			s, _ := scalar(r)
			if err := validResourceName(s); err != nil {
				return nil, fmt.Errorf("%s: resources[%d]: %q: %v", pos(r), i, s, err)
			}
			e.resources = append(e.resources, s)
			e.locs = append(e.locs, finding.Location{File: file, Line: r.Line, Column: r.Column})
		}
		if err := overlapping(e.resources); err != nil {
			return nil, fmt.Errorf("%s: resources[%d].resources: %v", pos(item), i, err)
		}
		ps := items(get(item, "providers"))
		if len(ps) == 0 {
			return nil, fmt.Errorf("%s: resources[%d].providers: at least one provider is required", pos(item), i)
		}
		for _, p := range ps {
			prov, err := readProvider(file, p)
			if err != nil {
				return nil, fmt.Errorf("%s: resources[%d].providers: %v", pos(p), i, err)
			}
			if prov.Type == KMS {
				// Names must be unique for v2 plugins (v1 ones only when the
				// configuration is reloaded automatically).
				if kmsNames[prov.Name] && prov.KMSAPIVersion == "v2" {
					return nil, fmt.Errorf("%s: duplicate KMS provider name %s, names must be unique", pos(p), prov.Name)
				}
				kmsNames[prov.Name] = true
			}
			e.providers = append(e.providers, prov)
		}
		// As the API server: a resource after a wildcard that covers it is
		// masked, which it refuses; otherwise the providers of every entry
		// naming a resource are tried in order, the first one writing.
		for j, r := range e.resources {
			gr := parseGroupResource(r)
			if _, masked := c.transformers[groupResource{gr.group, "*"}]; masked {
				return nil, fmt.Errorf("%s: resource %q is masked by earlier rule %q", e.locs[j], gr, groupResource{gr.group, "*"})
			}
			if _, masked := c.transformers[anyGroupAnyResource]; masked {
				return nil, fmt.Errorf("%s: resource %q is masked by earlier rule %q", e.locs[j], gr, anyGroupAnyResource)
			}
			if _, ok := c.first[gr]; !ok {
				c.first[gr] = e.locs[j]
			}
			c.transformers[gr] = append(c.transformers[gr], e.providers...)
		}
		c.entries = append(c.entries, e)
	}
	return c, nil
}

// validResourceName applies the API server's rules for resource names.
func validResourceName(s string) error {
	gr := parseGroupResource(s)
	switch {
	case s == "":
		return fmt.Errorf("empty resource")
	case strings.ToLower(s) != s:
		return fmt.Errorf("resource name should not contain capital letters")
	case s == "*":
		return fmt.Errorf("use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources")
	case gr.group == "" && (gr.resource == "apiserveripinfo" || gr.resource == "serviceipallocations" || gr.resource == "servicenodeportallocations"):
		return fmt.Errorf("resources which do not have REST API/s cannot be encrypted")
	case gr.group == "events.k8s.io":
		return fmt.Errorf("'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file")
	case gr.group == "extensions":
		return fmt.Errorf("'extensions' group has been removed and cannot be used for encryption")
	case gr.group == "*" && gr.resource != "*":
		return fmt.Errorf("resource in the '*' group is not allowed; use '*.*'")
	}
	return nil
}

// overlapping applies the API server's rules within one resource list: no
// resource twice, and no resource beside a wildcard covering it. It is
// linear in the list, which the API server's pairwise loop is not.
func overlapping(rs []string) error {
	seen := make(map[groupResource]bool, len(rs))
	groups := map[string]int{} // resources named per group
	wild := map[string]bool{}  // groups with a "*" resource
	for _, r := range rs {
		gr := parseGroupResource(r)
		if seen[gr] {
			return fmt.Errorf("the same resource cannot be specified multiple times")
		}
		seen[gr] = true
		groups[gr.group]++
		if gr.resource == "*" {
			wild[gr.group] = true
		}
	}
	if seen[anyGroupAnyResource] && len(rs) > 1 {
		return fmt.Errorf("using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked")
	}
	for g := range wild {
		if groups[g] > 1 {
			return fmt.Errorf("using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked")
		}
	}
	return nil
}

// readProvider reads and validates one provider.
func readProvider(file string, p *yaml.Node) (EncProvider, error) {
	var found []string
	for _, t := range []string{Identity, AESCBC, AESGCM, Secretbox, KMS} {
		if keyNode(p, t) != nil && get(p, t) != nil && get(p, t).Tag != "!!null" {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return EncProvider{}, fmt.Errorf("provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity")
	case 1:
	default:
		return EncProvider{}, fmt.Errorf("more than one provider specified in a single element, should split into different list elements")
	}
	t := found[0]
	k := keyNode(p, t)
	prov := EncProvider{Type: t, Loc: finding.Location{File: file, Line: k.Line, Column: k.Column}}
	body := get(p, t)
	switch t {
	case AESCBC, AESGCM, Secretbox:
		keys := items(get(body, "keys"))
		if len(keys) == 0 {
			return prov, fmt.Errorf("%s: at least one keys is required", t)
		}
		for i, key := range keys {
			name, _ := scalar(get(key, "name"))
			secret, _ := scalar(get(key, "secret"))
			if name == "" {
				return prov, fmt.Errorf("%s.keys[%d]: name is a mandatory field for a key", t, i)
			}
			if secret == "" {
				return prov, fmt.Errorf("%s.keys[%d]: secret is a mandatory field for a key", t, i)
			}
			raw, err := base64.StdEncoding.DecodeString(secret)
			if err != nil {
				return prov, fmt.Errorf("%s.keys[%d].secret: secrets must be base64 encoded", t, i)
			}
			ok := false
			for _, l := range keyLengths[t] {
				ok = ok || len(raw) == l
			}
			if !ok {
				return prov, fmt.Errorf("%s.keys[%d].secret: secret is not of the expected length, got %d, expected one of %v", t, i, len(raw), keyLengths[t])
			}
			if i == 0 {
				prov.Name = name
			}
		}
	case KMS:
		prov.Name, _ = scalar(get(body, "name"))
		prov.KMSAPIVersion, _ = scalar(get(body, "apiVersion"))
		if prov.KMSAPIVersion == "" {
			prov.KMSAPIVersion = "v1"
		}
		endpoint, _ := scalar(get(body, "endpoint"))
		switch {
		case prov.Name == "":
			return prov, fmt.Errorf("kms: name is a mandatory field for a provider")
		case strings.Contains(prov.Name, ":") && prov.KMSAPIVersion == "v2":
			return prov, fmt.Errorf("kms: invalid KMS provider name %s, must not contain ':'", prov.Name)
		case prov.KMSAPIVersion != "v1" && prov.KMSAPIVersion != "v2":
			return prov, fmt.Errorf("kms: unsupported apiVersion %s for KMS provider, only v1 and v2 are supported", prov.KMSAPIVersion)
		case endpoint == "":
			return prov, fmt.Errorf("kms: endpoint is a mandatory field for a kms")
		}
		u, err := url.Parse(endpoint)
		if err != nil || u.Scheme != "unix" {
			return prov, fmt.Errorf("kms: unsupported endpoint %q for KMS provider, only unix is supported", endpoint)
		}
	}
	return prov, nil
}

// Providers returns the providers the API server uses for a resource
// ("secrets", "deployments.apps"): those of the entry naming it, else of
// its group's wildcard, else of "*.*"; the first one writes, every one
// reads. None means the resource is stored as it is, in plain text.
// where locates the rule that decided.
func (c *EncryptionConfig) Providers(resource string) (ps []EncProvider, where finding.Location) {
	gr := parseGroupResource(resource)
	for _, k := range []groupResource{gr, {gr.group, "*"}, anyGroupAnyResource} {
		if ps, ok := c.transformers[k]; ok {
			return ps, c.first[k]
		}
	}
	return nil, c.Loc
}

// Named returns every resource and wildcard the configuration names, in
// the order first named.
func (c *EncryptionConfig) Named() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range c.entries {
		for _, r := range e.resources {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// UsesKMSv1 reports whether any provider is a KMS v1 plugin, which the
// API server loads only with the KMSv1 feature gate (off since v1.29).
func (c *EncryptionConfig) UsesKMSv1() (EncProvider, bool) {
	for _, e := range c.entries {
		for _, p := range e.providers {
			if p.Type == KMS && p.KMSAPIVersion == "v1" {
				return p, true
			}
		}
	}
	return EncProvider{}, false
}
