package object

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"gopkg.in/yaml.v3"
)

// validateCases reads the objects of a testdata/validate file.
func validateCases(t *testing.T, file string) []*Object {
	t.Helper()
	data, err := os.ReadFile("testdata/validate/" + file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []*Object
	for {
		var root yaml.Node
		if err := dec.Decode(&root); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatal(err)
		}
		o, err := New(&root, finding.Location{File: file}, 0)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
}

// TestValidate holds Validate to the API server's validation on the
// objects of testdata/validate (test/e2e/validate holds the files to the
// real kube-apiserver): every invalid object is refused at the field
// that is wrong, every valid one is accepted, and no message repeats the
// offending value.
func TestValidate(t *testing.T) {
	for _, o := range validateCases(t, "invalid.yaml") {
		err := errors.Join(o.CheckTypes(), o.CheckFields(), o.Validate())
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s accepted (%v)", o.Ref, err)
			continue
		}
		if fe.Location.Line <= o.Source.Line {
			t.Errorf("%s: error at line %d, not at the field (object at %d): %v", o.Ref, fe.Location.Line, o.Source.Line, err)
		}
		for _, v := range []string{"TCPX", "99999", "70000", "web server", "http_alt", "Equals", "Inbound"} {
			if strings.Contains(fe.Message, v) {
				t.Errorf("%s: message repeats the value %q: %s", o.Ref, v, fe.Message)
			}
		}
	}
	for _, o := range validateCases(t, "valid.yaml") {
		if err := errors.Join(o.CheckTypes(), o.CheckFields(), o.Validate()); err != nil {
			t.Errorf("%s refused: %v", o.Ref, err)
		}
	}
}
