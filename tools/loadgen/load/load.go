// Package load replays AdmissionReviews at a fixed rate and measures the
// answers. The rate is open-loop: requests leave on a fixed schedule
// whatever the server's latency, and each latency is measured from the
// moment its request was due, so a server that falls behind shows it in
// the tail instead of quietly lowering the rate (coordinated omission).
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Mix builds request bodies like a cluster's: mostly pod creations (from
// ReplicaSets, compliant with restricted, some violating it), some
// Deployments, some pod updates (label changes, which Pod Security skips).
// Namespaces should exist on the API server the webhook watches, with
// Pod Security labels.
func Mix(namespaces []string, n int) ([][]byte, error) {
	if len(namespaces) == 0 {
		return nil, fmt.Errorf("no namespaces")
	}
	var out [][]byte
	for i := range n {
		ns := namespaces[i%len(namespaces)]
		uid := types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
		var req *admissionv1.AdmissionRequest
		var err error
		switch i % 10 {
		case 0, 1, 2, 3, 4:
			req, err = podRequest(uid, ns, fmt.Sprintf("web-7d4b9c-%05d", i), compliant(), nil)
		case 5, 6:
			req, err = podRequest(uid, ns, fmt.Sprintf("legacy-%05d", i), violating(), nil)
		case 7:
			old := compliant()
			cur := compliant()
			cur.Labels["pod-template-hash"] = "changed"
			req, err = podRequest(uid, ns, fmt.Sprintf("web-7d4b9c-%05d", i), cur, old)
		default:
			req, err = deploymentRequest(uid, ns, fmt.Sprintf("app-%05d", i), compliant())
		}
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: req})
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// compliant is a typical restricted pod: two containers, probes, resources.
func compliant() *corev1.Pod {
	c := func(name, image string) corev1.Container {
		return corev1.Container{Name: name, Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Env:   []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"}, {Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent,
			VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}}}
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c"}, Annotations: map[string]string{"prometheus.io/scrape": "true"}},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true), RunAsUser: ptr[int64](10001), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers:      []corev1.Container{c("app", "registry.example.com/team/web:1.4.2"), c("proxy", "registry.example.com/mesh/proxy:2.1.0")},
			Volumes:         []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			RestartPolicy:   corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst, ServiceAccountName: "web",
			TerminationGracePeriodSeconds: ptr[int64](30), SchedulerName: "default-scheduler",
		},
	}
}

// violating runs as root with added capabilities and a hostPath.
func violating() *corev1.Pod {
	p := compliant()
	p.Spec.SecurityContext = nil
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}})
	return p
}

func raw(obj runtime.Object) (runtime.RawExtension, error) {
	b, err := json.Marshal(obj)
	return runtime.RawExtension{Raw: b}, err
}

func podRequest(uid types.UID, ns, name string, p, old *corev1.Pod) (*admissionv1.AdmissionRequest, error) {
	p.Name, p.Namespace = name, ns
	req := &admissionv1.AdmissionRequest{UID: uid, Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, RequestKind: &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		RequestResource: &metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, Name: name, Namespace: ns, Operation: admissionv1.Create,
		UserInfo: authnv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:authenticated"}}}
	var err error
	if req.Object, err = raw(p); err != nil {
		return nil, err
	}
	if old != nil {
		old.Name, old.Namespace = name, ns
		req.Operation = admissionv1.Update
		if req.OldObject, err = raw(old); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func deploymentRequest(uid types.UID, ns, name string, p *corev1.Pod) (*admissionv1.AdmissionRequest, error) {
	d := &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}}}
	req := &admissionv1.AdmissionRequest{UID: uid, Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
		Resource: metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Name: name, Namespace: ns, Operation: admissionv1.Create,
		UserInfo: authnv1.UserInfo{Username: "alice@example.com", Groups: []string{"system:authenticated"}}}
	var err error
	req.Object, err = raw(d)
	return req, err
}

// Result is one run at one rate.
type Result struct {
	Rate     int
	Duration time.Duration
	Sent     int
	Errors   int             // transport errors, non-200 answers, answers that are not reviews
	Late     int             // requests that could not even leave on time (client saturated)
	Latency  []time.Duration // sorted, of successful requests, from when each was due
	// Service is, sorted, from when a worker sent each request: Latency
	// without the generator's own lateness in sending it, which is up to a
	// millisecond or so when its timer wakes late (an idle Linux machine
	// oversleeps sub-millisecond sleeps by about that). With Late at 0 no
	// request waited for a worker, so the difference is the generator's.
	Service []time.Duration
	Elapsed time.Duration
}

// Throughput is successful answers per second.
func (r Result) Throughput() float64 {
	return float64(len(r.Latency)) / r.Elapsed.Seconds()
}

// Quantile returns the q-quantile of the latencies (nearest rank).
func (r Result) Quantile(q float64) time.Duration { return quantile(r.Latency, q) }

// ServiceQuantile returns the q-quantile of the service times.
func (r Result) ServiceQuantile(q float64) time.Duration { return quantile(r.Service, q) }

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Run sends bodies round-robin to url at rate requests per second for d,
// with up to workers requests in flight. It stops early when ctx is done.
//
// The generator shares the machine with the server it measures, so it
// does little per request: an answer counts when it is HTTP 200 and an
// AdmissionReview whose response carries the request's UID, read into a
// reused buffer and decoded no further.
func Run(ctx context.Context, c *http.Client, url string, bodies [][]byte, rate int, d time.Duration, workers int) Result {
	n := int(float64(rate) * d.Seconds())
	res := Result{Rate: rate, Duration: d}
	uids := make([]string, len(bodies))
	for i, b := range bodies {
		var r reviewUID
		if err := jsonv2.Unmarshal(b, &r); err != nil || r.Request == nil {
			panic(fmt.Sprintf("load: body %d is not an AdmissionReview request: %v", i, err))
		}
		uids[i] = r.Request.UID
	}
	type job struct {
		due time.Time
		i   int // index into bodies
	}
	jobs := make(chan job, workers)
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, n)
		svc      = make([]time.Duration, 0, n)
		errs     atomic.Int64
		late     atomic.Int64
		firstErr atomic.Value
	)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var buf bytes.Buffer
			for j := range jobs {
				sent := time.Now()
				err := post(c, url, bodies[j.i], uids[j.i], &buf)
				now := time.Now()
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				mu.Lock()
				lat = append(lat, now.Sub(j.due))
				svc = append(svc, now.Sub(sent))
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		select {
		case jobs <- job{due: due, i: i % len(bodies)}:
		default:
			// Every worker busy: the request waits, and its wait counts.
			late.Add(1)
			jobs <- job{due: due, i: i % len(bodies)}
		}
		res.Sent++
	}
	close(jobs)
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Errors, res.Late = int(errs.Load()), int(late.Load())
	slices.Sort(lat)
	slices.Sort(svc)
	res.Latency, res.Service = lat, svc
	if e := firstErr.Load(); e != nil && res.Errors > 0 {
		fmt.Printf("  first error at %d/s: %s\n", rate, e)
	}
	return res
}

// reviewUID is what Run reads of a review: the request's or the
// response's UID.
type reviewUID struct {
	Request *struct {
		UID string `json:"uid"`
	} `json:"request"`
	Response *struct {
		UID string `json:"uid"`
	} `json:"response"`
}

// post sends one review and checks its answer.
func post(c *http.Client, url string, body []byte, uid string, buf *bytes.Buffer) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var r reviewUID
	if err := jsonv2.Unmarshal(buf.Bytes(), &r); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if r.Response == nil || r.Response.UID != uid {
		return fmt.Errorf("answer is not the response to request %s", uid)
	}
	return nil
}

// Header is the table header for Row: latency from when each request was
// due, then from when it was sent (see Result.Service).
const Header = "server     rate/s  sent     ok/s  errors   late      p50      p99    p99.9 | sent→p50 sent→p99 sent→p99.9"

// Row formats a result as a table row.
func (r Result) Row(server string) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("%-9s %7d %5d %8.0f %7d %6d %8s %8s %8s | %8s %8s %10s", server, r.Rate, r.Sent, r.Throughput(), r.Errors, r.Late,
		ms(r.Quantile(0.50)), ms(r.Quantile(0.99)), ms(r.Quantile(0.999)),
		ms(r.ServiceQuantile(0.50)), ms(r.ServiceQuantile(0.99)), ms(r.ServiceQuantile(0.999)))
}
