package load

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
)

func TestMix(t *testing.T) {
	bodies, err := Mix([]string{"a", "b"}, 20)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, b := range bodies {
		var r admissionv1.AdmissionReview
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.APIVersion != "admission.k8s.io/v1" || r.Request == nil || r.Request.UID == "" || len(r.Request.Object.Raw) == 0 {
			t.Fatalf("not a complete review: %s", b)
		}
		kinds[string(r.Request.Operation)+" "+r.Request.Kind.Kind]++
	}
	want := map[string]int{"CREATE Pod": 14, "UPDATE Pod": 2, "CREATE Deployment": 4}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%s: %d, want %d (%v)", k, kinds[k], n, kinds)
		}
	}
}

func TestRun(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rev admissionv1.AdmissionReview
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &rev)
		if rev.Request.Name == "legacy-00005" {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		if rev.Request.Name == "legacy-00006" { // an answer to another request
			rev.Request.UID = "someone-else"
		}
		_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{Response: &admissionv1.AdmissionResponse{UID: rev.Request.UID, Allowed: true}})
	}))
	defer ts.Close()
	bodies, err := Mix([]string{"a"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), ts.Client(), ts.URL, bodies, 200, 500*time.Millisecond, 4)
	if res.Sent != 100 || res.Errors != 20 || len(res.Latency) != 80 {
		t.Errorf("sent %d, errors %d, answered %d; want 100, 20, 80", res.Sent, res.Errors, len(res.Latency))
	}
	if p50, p99 := res.Quantile(0.5), res.Quantile(0.99); p50 <= 0 || p99 < p50 {
		t.Errorf("p50 %s, p99 %s", p50, p99)
	}
	if len(res.Service) != len(res.Latency) {
		t.Errorf("%d service times for %d latencies", len(res.Service), len(res.Latency))
	}
	for i := range res.Service {
		// Sorted apart, but each service time is at most its latency,
		// so the i-th smallest of one is at most the other's.
		if res.Service[i] > res.Latency[i] || res.Service[i] <= 0 {
			t.Fatalf("service time %s against latency %s at rank %d", res.Service[i], res.Latency[i], i)
		}
	}
	if res.Elapsed < 490*time.Millisecond {
		t.Errorf("a fixed rate of 200/s for 500ms took %s", res.Elapsed)
	}
}
