// Package validate holds kubeguard's refusal of invalid objects
// (object.Validate, and CheckTypes before it) to the real kube-apiserver:
// each object of internal/object/testdata/validate is created with a dry
// run, and the server refuses exactly those kubeguard refuses.
package validate

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
	"github.com/kubeguard/kubeguard/test/e2e/apiserver"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	sigsyaml "sigs.k8s.io/yaml"
)

var srv *apiserver.Server

func TestMain(m *testing.M) {
	os.Exit(apiserver.RunTests(m, apiserver.Options{}, &srv))
}

func TestValidateMatchesServer(t *testing.T) {
	dyn, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(srv.Client.Discovery()))
	// Pods are admitted only with their ServiceAccount, which no
	// controller of this bare server makes.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := srv.Client.CoreV1().ServiceAccounts("default").Create(t.Context(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, file := range []string{"invalid.yaml", "valid.yaml"} {
		data, err := os.ReadFile("../../../internal/object/testdata/validate/" + file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var root yaml.Node
			if err := dec.Decode(&root); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			o, err := object.New(&root, finding.Location{File: file}, 0)
			if err != nil {
				t.Fatal(err)
			}
			mine := errors.Join(o.CheckTypes(), o.CheckFields(), o.Validate())

			var doc bytes.Buffer
			if err := yaml.NewEncoder(&doc).Encode(&root); err != nil {
				t.Fatal(err)
			}
			js, err := sigsyaml.YAMLToJSON(doc.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(js); err != nil {
				t.Fatal(err)
			}
			gvk := u.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Logf("%s: not served by the API server (%v); kubeguard alone judges it", o.Ref, err)
				continue
			}
			var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
			if m.Scope.Name() == meta.RESTScopeNameNamespace {
				ri = dyn.Resource(m.Resource).Namespace("default")
			}
			_, theirs := ri.Create(t.Context(), u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict})
			checked++
			switch {
			case theirs != nil && !apierrors.IsInvalid(theirs) && !apierrors.IsBadRequest(theirs):
				t.Errorf("%s: the server failed otherwise than by refusing it: %v", o.Ref, theirs)
			case (mine == nil) != (theirs == nil):
				t.Errorf("%s (%s): kubeguard says %v, the API server says %v", o.Ref, file, mine, theirs)
			case unknown(mine) != "" && !strings.Contains(theirs.Error(), `unknown field "`+unknown(mine)+`"`):
				t.Errorf("%s: kubeguard finds the unknown field %s, the API server refuses it otherwise: %v", o.Ref, unknown(mine), theirs)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d objects compared with the server", checked)
	}
}

// unknown is the path of the unknown field err names, empty when it names
// none.
func unknown(err error) string {
	var fe *object.FieldError
	if errors.As(err, &fe) && strings.HasPrefix(fe.Message, "unknown field") {
		return fe.Path.String()
	}
	return ""
}
