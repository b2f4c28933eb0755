package suppress

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/config"
	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

func TestInvalidSuppression(t *testing.T) {
	known := func(id string) bool { return id == "read-only-root-filesystem" || id == "pss-runAsNonRoot" }
	checktest.Run(t, "testdata", []check.Check{InvalidSuppression(known)})
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		in      string
		ids     []string
		reason  string
		wantErr bool
	}{
		{in: "a,b -- why not", ids: []string{"a", "b"}, reason: "why not"},
		{in: " a -- reason -- with dashes", ids: []string{"a"}, reason: "reason -- with dashes"},
		{in: "a", wantErr: true},
		{in: "a --  ", wantErr: true},
		{in: " -- reason", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ids, reason, err := ParseValue(tt.in)
			if (err != nil) != tt.wantErr || !cmp.Equal(ids, tt.ids) || reason != tt.reason {
				t.Errorf("ParseValue(%q) = %q, %q, %v", tt.in, ids, reason, err)
			}
		})
	}
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    kubeguard.io/ignore: "image-digest -- vendor image"
spec:
  template:
    metadata:
      annotations:
        kubeguard.io/ignore.proxy: "pss-runAsNonRoot -- mesh sidecar"
    spec:
      containers:
      - {name: app, image: app:1}
      - {name: proxy, image: proxy:1}
`

func object1(t *testing.T) *object.Object {
	t.Helper()
	objs, errs := manifest.Parse("d.yaml", manifest.Split([]byte(deployment))[0])
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return objs[0]
}

func TestFilter(t *testing.T) {
	obj := object1(t)
	mk := func(id string, containers ...string) finding.Finding {
		return finding.Finding{CheckID: id, Severity: finding.High, Object: obj.Ref, Containers: containers}
	}
	cfg, err := config.Parse(".kubeguard.yaml", []byte(`
checks:
  severity: {read-only-root-filesystem: low}
exemptions:
- checks: [pss-privileged]
  namespace: shop
  reason: legacy
- checks: [pss-hostPorts]
  reason: gone
  expires: 2020-01-01
`), func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		filter   Filter
		in       finding.Finding
		wantKind string
		wantSev  finding.Severity
	}{
		{name: "object annotation", in: mk("image-digest", "app"), wantKind: "annotation", wantSev: finding.High},
		{name: "container annotation", in: mk("pss-runAsNonRoot", "proxy"), wantKind: "annotation", wantSev: finding.High},
		{name: "container annotation does not cover another container", in: mk("pss-runAsNonRoot", "app", "proxy"), wantSev: finding.High},
		{name: "no-suppressions", filter: Filter{NoAnnotations: true}, in: mk("image-digest", "app"), wantSev: finding.High},
		{name: "exemption", filter: Filter{Config: cfg}, in: mk("pss-privileged", "app"), wantKind: "exemption", wantSev: finding.High},
		{name: "expired exemption", filter: Filter{Config: cfg}, in: mk("pss-hostPorts", "app"), wantSev: finding.High},
		{name: "severity override", filter: Filter{Config: cfg}, in: mk("read-only-root-filesystem", "app"), wantSev: finding.Low},
		{name: "baseline", filter: Filter{Baseline: map[string]bool{Fingerprint(&finding.Finding{CheckID: "pss-privileged", Object: obj.Ref, Containers: []string{"app"}}): true}},
			in: mk("pss-privileged", "app"), wantKind: "baseline", wantSev: finding.High},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.filter
			f.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			fs := []finding.Finding{tt.in}
			f.Apply(obj, fs)
			kind := ""
			if fs[0].Suppressed != nil {
				kind = fs[0].Suppressed.Kind
			}
			if kind != tt.wantKind || fs[0].Severity != tt.wantSev {
				t.Errorf("got suppression %q severity %s, want %q %s", kind, fs[0].Severity, tt.wantKind, tt.wantSev)
			}
		})
	}
	expired := (&Filter{Config: cfg, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).Expired()
	if len(expired) != 1 || expired[0].CheckID != "expired-exemption" || expired[0].Location.Line != 8 {
		t.Errorf("Expired() = %+v", expired)
	}
}

// TestRulesTemplateAnnotations holds the short cut that skips decoding a
// template's annotations to the decoding it skips: the rules found are
// those of the decoded annotations, however the annotations are written.
func TestRulesTemplateAnnotations(t *testing.T) {
	const head = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata:\n"
	const tail = "    spec:\n      containers: [{name: app, image: app:1}]\n"
	tests := []struct {
		name        string
		annotations string // the template's metadata.annotations, as written
		wantKeys    []string
	}{
		{name: "none", annotations: ""},
		{name: "others only", annotations: "      annotations: {a: b, c: d}\n"},
		{name: "empty", annotations: "      annotations: {}\n"},
		{name: "null", annotations: "      annotations: null\n"},
		{name: "ignore", annotations: "      annotations: {a: b, kubeguard.io/ignore: \"x -- y\"}\n", wantKeys: []string{"kubeguard.io/ignore"}},
		{name: "container ignore", annotations: "      annotations:\n        kubeguard.io/ignore.app: \"x -- y\"\n", wantKeys: []string{"kubeguard.io/ignore.app"}},
		{name: "quoted key", annotations: "      annotations: {\"kubeguard.io/ignore\": \"x -- y\"}\n", wantKeys: []string{"kubeguard.io/ignore"}},
		{name: "similar key", annotations: "      annotations: {kubeguard.io/ignorex: \"x -- y\"}\n"},
		{name: "number key", annotations: "      annotations: {1: b}\n"},
		{name: "merged", annotations: "      annotations:\n        <<: {kubeguard.io/ignore: \"x -- y\"}\n        a: b\n", wantKeys: []string{"kubeguard.io/ignore"}},
		{name: "alias", annotations: "      labels: &l {kubeguard.io/ignore: \"x -- y\"}\n      annotations: *l\n", wantKeys: []string{"kubeguard.io/ignore"}},
		{name: "not a mapping", annotations: "      annotations: [a]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, errs := manifest.Parse("d.yaml", manifest.Split([]byte(head + tt.annotations + tail))[0])
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			rules, _ := Rules(objs[0])
			var keys []string
			for _, r := range rules {
				keys = append(keys, r.Key)
			}
			if diff := cmp.Diff(tt.wantKeys, keys); diff != "" {
				t.Errorf("rule keys (-want +got):\n%s", diff)
			}
		})
	}
}
