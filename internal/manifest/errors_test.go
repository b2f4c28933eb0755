package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/object"
)

// TestScalarErrorsWithholdValues: a scalar whose explicit tag does not fit
// its text is an error naming the field and its line, never quoting the
// value (a Secret's data, a password in an env value).
func TestScalarErrorsWithholdValues(t *testing.T) {
	const secret = "s3cr3t-Passw0rd"
	for _, tag := range []string{"!!int", "!!float", "!!bool", "!!null"} {
		for _, tt := range []struct {
			name, doc string
			line      int
			field     string
		}{
			{"annotation, second document", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    last-applied: " + tag + " " + secret + "\n",
				10, "metadata.annotations.last-applied"},
			{"List item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: s\n    labels: {x: " + tag + " " + secret + "}\n",
				8, "metadata.labels.x"},
			{"env value in a pod template", "# leading comment\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        env:\n        - name: DB_PASSWORD\n          value: " + tag + " " + secret + "\n",
				12, "containers[0].env[0].value"},
		} {
			t.Run(tag+"/"+tt.name, func(t *testing.T) {
				var msgs []string
				for _, d := range Split([]byte(tt.doc)) {
					objs, errs := Parse("f.yaml", d)
					for _, e := range errs {
						if e.Location.Line != tt.line {
							t.Errorf("error at line %d, want %d: %s", e.Location.Line, tt.line, e.Message)
						}
						msgs = append(msgs, e.Message)
					}
					for _, o := range objs {
						if _, err := o.PodTemplate(); err != nil {
							// The typed check finds it first, with its place;
							// else the conversion names the line.
							if fe, ok := errors.AsType[*object.FieldError](err); ok {
								if fe.Location.Line != 12 {
									t.Errorf("error at line %d, want 12: %v", fe.Location.Line, err)
								}
							} else if !strings.Contains(err.Error(), "line 12,") {
								t.Errorf("error does not name line 12: %v", err)
							}
							msgs = append(msgs, err.Error())
						}
					}
				}
				if len(msgs) != 1 {
					t.Fatalf("errors %q, want one", msgs)
				}
				if strings.Contains(msgs[0], secret) || strings.Contains(msgs[0], "Passw0rd") {
					t.Errorf("error quotes the value: %s", msgs[0])
				}
				if !strings.Contains(msgs[0], tt.field) {
					t.Errorf("error does not name the field %s: %s", tt.field, msgs[0])
				}
			})
		}
	}
}

// TestInvalidUTF8Line: yaml.v3's encoding error has no line; the error
// names the line of the first invalid byte, not the document's first.
func TestInvalidUTF8Line(t *testing.T) {
	for _, tt := range []struct {
		data string
		line int
	}{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: x\xff\xfey\n", 6},
		{"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"x\xc3\"\n", 6},
		{"a: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xff}\n", 5},
		{"\xffkind: x\n", 1},
	} {
		docs := Split([]byte(tt.data))
		var got []int
		for _, d := range docs {
			_, errs := Parse("f.yaml", d)
			for _, e := range errs {
				if strings.Contains(e.Message, "UTF-8") {
					got = append(got, e.Location.Line)
				}
			}
		}
		if len(got) != 1 || got[0] != tt.line {
			t.Errorf("%q: UTF-8 errors on lines %v, want %d", tt.data, got, tt.line)
		}
	}
}
