package admission

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubeguard/kubeguard/internal/checks"
)

// BenchmarkReview measures one decision without HTTP: a compliant pod, a
// pod enforce denies, a Deployment (warned), and a compliant pod with the
// kubeguard catalogue in warn mode.
func BenchmarkReview(b *testing.B) {
	all, err := checks.All()
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	cases := []struct {
		name string
		req  *admissionv1.AdmissionRequest
	}{
		{"pod-allowed", podRequest(t, admissionv1.Create, "strict", restrictedPod("p"), nil)},
		{"pod-denied", podRequest(t, admissionv1.Create, "strict", privilegedPod("p"), nil)},
		{"deployment-warned", deploymentRequest(t, "team", privilegedPod("p"))},
		{"pod-checks-warn", podRequest(t, admissionv1.Create, "checked", restrictedPod("p"), nil)},
	}
	r := newReviewer(&testing.T{}, Config{Checks: all})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				r.Review(ctx, c.req)
			}
		})
	}
}
