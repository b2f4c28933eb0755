package run

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kubeguard/kubeguard/internal/report"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The report resources: served by the wgpolicyk8s.io CRDs, which Kyverno,
// policy-reporter and others install.
var (
	PolicyReports        = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	ClusterPolicyReports = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
)

// WriteReports creates each report, or replaces the one of the same name
// kubeguard wrote before. It is the only write kubeguard makes, and only
// on request. It stops at the first error: without the CRDs, every write
// would fail the same way.
func WriteReports(ctx context.Context, d dynamic.Interface, reports []report.PolicyReport) error {
	for _, pr := range reports {
		b, err := json.Marshal(pr)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", pr.Kind, pr.Metadata.Namespace, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			return fmt.Errorf("encode %s %s: %w", pr.Kind, pr.Metadata.Namespace, err)
		}
		var ri dynamic.ResourceInterface = d.Resource(ClusterPolicyReports)
		where := "ClusterPolicyReport " + pr.Metadata.Name
		if pr.Kind == "PolicyReport" {
			ri = d.Resource(PolicyReports).Namespace(pr.Metadata.Namespace)
			where = "PolicyReport " + pr.Metadata.Namespace + "/" + pr.Metadata.Name
		}
		old, err := ri.Get(ctx, pr.Metadata.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if _, err := ri.Create(ctx, u, metav1.CreateOptions{FieldManager: "kubeguard"}); err != nil {
				return fmt.Errorf("create %s: %w", where, hint(err))
			}
		case err != nil:
			return fmt.Errorf("read %s: %w", where, hint(err))
		default:
			u.SetResourceVersion(old.GetResourceVersion())
			if _, err := ri.Update(ctx, u, metav1.UpdateOptions{FieldManager: "kubeguard"}); err != nil {
				return fmt.Errorf("update %s: %w", where, hint(err))
			}
		}
	}
	return nil
}

// hint explains the usual cause of a failed write.
func hint(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return fmt.Errorf("%w (is the wgpolicyk8s.io/v1alpha2 PolicyReport CRD installed?)", err)
	}
	return err
}
