package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// pager serves n objects per resource in pages, or an error.
type pager struct {
	n    int
	err  map[string]error // resource -> error on the first page
	late error            // error on the second page
	// expire answers the first continued list with 410, handing out a
	// token that goes on from the same place, as the API server does.
	expire bool
	calls  []metav1.ListOptions
}

func (p *pager) List(_ context.Context, r Resource, ns string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	p.calls = append(p.calls, opts)
	if err := p.err[r.GVR.Resource]; err != nil {
		return nil, err
	}
	if p.late != nil && opts.Continue != "" {
		return nil, p.late
	}
	if p.expire && opts.Continue != "" {
		p.expire = false
		err := apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result.")
		err.ErrStatus.Continue = opts.Continue
		return nil, err
	}
	start, _ := strconv.Atoi(opts.Continue)
	l := &unstructured.UnstructuredList{}
	i := start
	for ; i < p.n && int64(i-start) < opts.Limit; i++ {
		u := unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": fmt.Sprint("o", i), "namespace": ns}}}
		l.Items = append(l.Items, u)
	}
	if i < p.n {
		l.SetContinue(strconv.Itoa(i))
	}
	return l, nil
}

func (p *pager) ListMetadata(_ context.Context, r Resource, ns string, opts metav1.ListOptions) (*metav1.PartialObjectMetadataList, error) {
	p.calls = append(p.calls, opts)
	return &metav1.PartialObjectMetadataList{Items: []metav1.PartialObjectMetadata{{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: ns}}}}, nil
}

func TestCollectorEach(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	missing := apierrors.NewNotFound(schema.GroupResource{Resource: "ingresses"}, "")
	broken := errors.New("connection reset")
	tests := []struct {
		name      string
		pager     pager
		resource  Resource
		namespace string
		wantNames int
		wantCalls int
		wantWarn  bool
		wantErr   bool
		wantAll   bool // the warning says every object was listed
	}{
		{name: "pages", pager: pager{n: 7}, resource: Pods, wantNames: 7, wantCalls: 3},
		{name: "exact pages", pager: pager{n: 6}, resource: Pods, wantNames: 6, wantCalls: 2},
		{name: "empty", pager: pager{}, resource: Pods, wantCalls: 1},
		{name: "forbidden", pager: pager{n: 3, err: map[string]error{"pods": forbidden}}, resource: Pods, wantCalls: 1, wantWarn: true},
		{name: "not served", pager: pager{n: 3, err: map[string]error{"ingresses": missing}}, resource: Ingresses, wantCalls: 1, wantWarn: true},
		{name: "other error", pager: pager{n: 3, err: map[string]error{"pods": broken}}, resource: Pods, wantCalls: 1, wantErr: true},
		{name: "forbidden mid-list is an error", pager: pager{n: 7, late: forbidden}, resource: Pods, wantNames: 3, wantCalls: 2, wantErr: true},
		{name: "metadata", pager: pager{}, resource: Secrets, namespace: "a", wantNames: 1, wantCalls: 1},
		{name: "expired continue goes on", pager: pager{n: 7, expire: true}, resource: Pods, wantNames: 7, wantCalls: 4, wantWarn: true, wantAll: true},
		{name: "expired without a token is an error", pager: pager{n: 7, late: apierrors.NewResourceExpired("too old")}, resource: Pods, wantNames: 3, wantCalls: 2, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.pager
			var progress []int
			c := &Collector{Lister: &p, Metadata: &p, PageSize: 3, Namespace: tc.namespace, Progress: func(_ Resource, n int) { progress = append(progress, n) }}
			names := 0
			err := c.Each(context.Background(), tc.resource, func(it *Item) error {
				names++
				if tc.resource.Namespaced && it.Meta.GetNamespace() != tc.namespace {
					t.Errorf("namespace %q, want %q", it.Meta.GetNamespace(), tc.namespace)
				}
				if tc.resource.MetadataOnly != (it.Raw == nil) {
					t.Errorf("metadata-only %v but content %v", tc.resource.MetadataOnly, it.Raw)
				}
				return nil
			})
			var w *Warning
			if got := errors.As(err, &w); got != tc.wantWarn {
				t.Errorf("warning = %v (%v), want %v", got, err, tc.wantWarn)
			}
			if got := err != nil && w == nil; got != tc.wantErr {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if w != nil && w.Listed() != tc.wantAll {
				t.Errorf("warning %q: listed %v, want %v", w, w.Listed(), tc.wantAll)
			}
			if names != tc.wantNames || len(p.calls) != tc.wantCalls {
				t.Errorf("%d objects in %d calls, want %d in %d", names, len(p.calls), tc.wantNames, tc.wantCalls)
			}
			for _, o := range p.calls {
				if o.Limit != 3 || o.FieldSelector != tc.resource.FieldSelector {
					t.Errorf("list options %+v", o)
				}
			}
			if err == nil && len(progress) != tc.wantCalls {
				t.Errorf("progress %v after %d pages", progress, tc.wantCalls)
			}
		})
	}
}

func TestWarningText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("no")),
			"cannot list ingresses.networking.k8s.io (forbidden): results leave them out; grant list on them to the scanner's identity"},
		{apierrors.NewNotFound(schema.GroupResource{Resource: "ingresses"}, ""),
			"ingresses.networking.k8s.io are not served by this cluster: results leave them out"},
	}
	for _, tc := range tests {
		if got := (&Warning{Resource: Ingresses, Err: tc.err}).Error(); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}

func TestObject(t *testing.T) {
	raw := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "n", "uid": "u1", "managedFields": []any{map[string]any{"manager": "kubectl"}},
			"labels": map[string]any{"on": "yes"}, "annotations": map[string]any{lastApplied: `{"big":1}`, "a": "b"}},
		"spec": map[string]any{"hostNetwork": true, "containers": []any{map[string]any{"name": "c", "image": "i",
			"ports": []any{map[string]any{"containerPort": int64(80)}}}}, "terminationGracePeriodSeconds": 1.5, "nodeName": nil},
		"status": map[string]any{"phase": "Running"},
	}
	u := &unstructured.Unstructured{Object: raw}
	obj, err := Object(&Item{Resource: Pods, Meta: u, Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	j, err := obj.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"a":"b"},"labels":{"on":"yes"},"name":"p","namespace":"n"},` +
		`"spec":{"containers":[{"image":"i","name":"c","ports":[{"containerPort":80}]}],"hostNetwork":true,"nodeName":null,"terminationGracePeriodSeconds":1.5}}`
	if d := cmp.Diff(want, string(j)); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}
	if obj.Labels["on"] != "yes" || obj.Ref.Namespace != "n" || obj.Source.Line != 0 {
		t.Errorf("ref %v labels %v source %v", obj.Ref, obj.Labels, obj.Source)
	}

	secret := &metav1.ObjectMeta{Name: "s", Namespace: "n", Labels: map[string]string{"l": "v"},
		Annotations: map[string]string{lastApplied: `{"data":{"k":"c2VjcmV0"}}`, saNameAnnotation: "sa", "other": "x"}}
	for _, tc := range []struct {
		r    Resource
		want string
	}{
		{Secrets, `{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"kubernetes.io/service-account.name":"sa"},"labels":{"l":"v"},"name":"s","namespace":"n"}}`},
		{TokenSecrets, `{"apiVersion":"v1","kind":"Secret","metadata":{"annotations":{"kubernetes.io/service-account.name":"sa"},"labels":{"l":"v"},"name":"s","namespace":"n"},"type":"kubernetes.io/service-account-token"}`},
	} {
		obj, err := Object(&Item{Resource: tc.r, Meta: secret})
		if err != nil {
			t.Fatal(err)
		}
		j, _ := obj.JSON()
		if d := cmp.Diff(tc.want, string(j)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.r.FieldSelector, d)
		}
	}
}

func TestSlim(t *testing.T) {
	tests := []struct {
		r    Resource
		raw  map[string]any
		want string
	}{
		{Pods, map[string]any{"spec": map[string]any{"serviceAccountName": "sa", "nodeName": "n1", "containers": []any{map[string]any{"name": "c"}}}},
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"ns"},"spec":{"containers":[],"nodeName":"n1","serviceAccountName":"sa"}}`},
		{CronJobs, map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"automountServiceAccountToken": false}}}}}},
			`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"x","namespace":"ns"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"automountServiceAccountToken":false,"containers":[]}}}}}}`},
		{Deployments, map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"serviceAccount": "old"}}}},
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"ns"},"spec":{"template":{"spec":{"containers":[],"serviceAccount":"old"}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.r.Kind, func(t *testing.T) {
			obj, err := Slim(&Item{Resource: tc.r, Meta: &metav1.ObjectMeta{Name: "x", Namespace: "ns"}, Raw: tc.raw})
			if err != nil {
				t.Fatal(err)
			}
			j, _ := obj.JSON()
			if d := cmp.Diff(tc.want, string(j)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if _, ok := obj.TemplatePath(); !ok {
				t.Error("slim object has no pod template")
			}
		})
	}
}
