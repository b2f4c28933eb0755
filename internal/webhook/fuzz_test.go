package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/kubeguard/kubeguard/internal/admission"
	"github.com/kubeguard/kubeguard/internal/checks"
	"github.com/kubeguard/kubeguard/tools/loadgen/load"
)

// labelledCluster has every namespace asked for, each with these labels,
// and no pods.
type labelledCluster map[string]string

func (c labelledCluster) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	ns.Name = name
	ns.Labels = maps.Clone(map[string]string(c))
	return ns, nil
}

func (labelledCluster) ListPods(context.Context, string) ([]*corev1.Pod, error) { return nil, nil }

// FuzzHandler sends arbitrary bodies through the real reviewer. Every
// answer must be an AdmissionReview with a response, within the timeout,
// and never an internal error: malformed input is the client's error.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"namespace":"ns","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx","securityContext":{"privileged":true}}]}}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"2","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"ns","operation":"UPDATE","object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}},"oldObject":{"spec":7}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"3","kind":{"version":"v1","kind":"Namespace"},"resource":{"version":"v1","resource":"namespaces"},"name":"x","operation":"UPDATE","object":{"metadata":{"name":"x","labels":{"pod-security.kubernetes.io/enforce":"bogus"}}},"oldObject":{"metadata":{"name":"x"}}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"4","resource":{"resource":"pods"},"subResource":"ephemeralcontainers","operation":"UPDATE","object":"not an object"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"5","object":{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"a","image":"x"}]},"metadata":{"annotations":{"kubeguard.io/ignore":"image-tag-latest -- mine"}}}}}`,
		// A workload review without an object: it panicked inside Pod
		// Security's library and --deny-workloads.
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"7","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"ns","operation":"CREATE"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"8","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"namespace":"ns","operation":"UPDATE","object":null,"oldObject":{"apiVersion":"apps/v1","kind":"Deployment"}}}`,
		`{"request":null}`, `[]`, `null`, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"6","object":{"a":{"b":{"c":[[[[[[[[[[]]]]]]]]]]}}}}}`,
	} {
		f.Add([]byte(s))
	}
	all, err := checks.All()
	if err != nil {
		f.Fatal(err)
	}
	// Restricted enforced and the catalogue in deny mode, so that fuzzed
	// objects reach every stage.
	cl := labelledCluster{"pod-security.kubernetes.io/enforce": "restricted", admission.ModeLabel: "deny"}
	r, err := admission.New(admission.Config{Namespaces: cl, Pods: cl, Checks: all, DenyWorkloads: true})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := New(Options{Reviewer: r, MaxBodyBytes: 1 << 16}); err == nil {
		f.Fatal("a server without certificates was accepted")
	}
	s, err := New(Options{Reviewer: r, Certificates: &CertReloader{}, MaxBodyBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, ReviewPath+"?timeout=2s", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, req)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("answer took %s", d)
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(w.Body.Bytes(), &review); err != nil || review.Response == nil {
			t.Fatalf("answer is not an AdmissionReview with a response (%v): %s", err, w.Body.String())
		}
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
		}
		if res := review.Response.Result; res != nil && res.Code >= 500 {
			t.Fatalf("internal error for input: %s", res.Message)
		}
	})
}

// FuzzDecodeReview holds decodeReview, which tries encoding/json/v2 first,
// to sigs.k8s.io/json alone: the same review or an error from both.
func FuzzDecodeReview(f *testing.F) {
	bodies, err := load.Mix([]string{"ns"}, 10)
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range bodies {
		f.Add(b)
	}
	for _, s := range []string{
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","object":{"a": [1, 2 ] },"oldObject":null}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Request":{"uid":"case"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1"},"request":{"uid":"2"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","userInfo":{"username":"u","groups":null,"extra":{"k":["v"],"n":null}},"dryRun":null,"options":{"x":1}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","dryRun":"true"}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"1","allowed":true,"status":{"code":1e2},"patch":"e30="}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"status":{"code":403.0,"details":{"retryAfterSeconds":-0}}}}`,
		"{\"request\":{\"uid\":\"bad\xff\"}}", `{"request":{"uid":"\ud800"}}`, `null`, `[]`, `{}`, ` {"request":{}} `, `{"request":{"kind":{"Kind":"Pod"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodeReview(body)
		var want admissionv1.AdmissionReview
		wantErr := kjson.UnmarshalCaseSensitivePreserveInts(body, &want)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("%q: error %v, want %v", body, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(*got, want) {
			t.Fatalf("%q: review %#v, want %#v", body, *got, want)
		}
	})
}
