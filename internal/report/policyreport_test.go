package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
	"sigs.k8s.io/yaml"
)

func TestPolicyReports(t *testing.T) {
	dep := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web"}
	crb := finding.ObjectRef{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding", Name: "admin"}
	r := &Report{
		Objects: []Object{{Ref: dep}, {Ref: crb}, {Ref: finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "quiet", Name: "p"}}},
		Findings: []finding.Finding{
			{CheckID: "pss-privileged", Title: "Privileged container", Severity: finding.High, Category: "Pod Security", Object: dep,
				Containers: []string{"web"}, Path: "spec.template.spec.containers[0].securityContext.privileged",
				Reason: "privileged", Detail: "container web (3 running pods)", DocURL: "https://kubernetes.io/x"},
			{CheckID: "image-tag-latest", Title: "Latest tag", Severity: finding.Low, Object: dep, Reason: "latest",
				Suppressed: &finding.Suppression{Kind: "annotation", Reason: "dev only"}},
			{CheckID: "rbac-cluster-admin-binding", Title: "cluster-admin", Severity: finding.Critical, Object: crb, Reason: "binds cluster-admin"},
		},
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 5, time.UTC)
	var b bytes.Buffer
	if err := (PolicyReportYAML{Now: now}).Write(&b, r); err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(b.String(), "\n---\n")
	var got []PolicyReport
	for _, d := range docs {
		var pr PolicyReport
		if err := yaml.UnmarshalStrict([]byte(d), &pr); err != nil {
			t.Fatalf("%v\n%s", err, d)
		}
		got = append(got, pr)
	}
	ts := PolicyReportTime{Seconds: now.Unix(), Nanos: 5}
	labels := map[string]string{"app.kubernetes.io/managed-by": "kubeguard"}
	want := []PolicyReport{
		{APIVersion: PolicyReportAPIVersion, Kind: "ClusterPolicyReport", Metadata: PolicyReportMeta{Name: "kubeguard", Labels: labels},
			Summary: PolicyReportSummary{Fail: 1}, Results: []PolicyReportResult{{
				Source: "kubeguard", Policy: "rbac-cluster-admin-binding", Rule: "rbac-cluster-admin-binding", Severity: "critical",
				Timestamp: ts, Result: "fail", Scored: true, Message: "cluster-admin: binds cluster-admin",
				Resources: []PolicyReportObject{{APIVersion: crb.APIVersion, Kind: crb.Kind, Name: "admin"}},
			}}},
		{APIVersion: PolicyReportAPIVersion, Kind: "PolicyReport", Metadata: PolicyReportMeta{Name: "kubeguard", Namespace: "apps", Labels: labels},
			Summary: PolicyReportSummary{Fail: 1, Skip: 1}, Results: []PolicyReportResult{
				{Source: "kubeguard", Policy: "image-tag-latest", Rule: "image-tag-latest", Severity: "low", Timestamp: ts, Result: "skip",
					Message: "Latest tag: latest", Resources: []PolicyReportObject{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web"}},
					Properties: map[string]string{"suppressed": "annotation", "suppressedReason": "dev only"}},
				{Source: "kubeguard", Policy: "pss-privileged", Rule: "pss-privileged", Category: "Pod Security", Severity: "high", Timestamp: ts,
					Result: "fail", Scored: true, Message: "Privileged container: privileged: container web (3 running pods)",
					Resources:  []PolicyReportObject{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "apps", Name: "web"}},
					Properties: map[string]string{"path": "spec.template.spec.containers[0].securityContext.privileged", "containers": "web", "doc": "https://kubernetes.io/x"}},
			}},
		{APIVersion: PolicyReportAPIVersion, Kind: "PolicyReport", Metadata: PolicyReportMeta{Name: "kubeguard", Namespace: "quiet", Labels: labels},
			Results: []PolicyReportResult{}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
