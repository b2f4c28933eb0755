package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// TestTextLiveObject: a finding about an object read from a cluster has a
// field path and no file; the text names the path without an empty "at".
func TestTextLiveObject(t *testing.T) {
	ref := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	r := &Report{
		Objects: []Object{{Ref: ref}},
		Findings: []finding.Finding{{
			CheckID: "pss-privileged", Title: "Privileged container", Severity: finding.Critical, Object: ref,
			Path: "spec.template.spec.containers[0].securityContext.privileged", Reason: "privileged",
		}},
	}
	var b bytes.Buffer
	if err := (Text{}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	want := "\n      at spec.template.spec.containers[0].securityContext.privileged\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("text report lacks %q:\n%s", want, b.String())
	}
}
