package object

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kubeguard/kubeguard/internal/finding"
)

func TestHugeExponent(t *testing.T) {
	for s, want := range map[string]bool{
		"1e901234567890": true, "1e-99999999": true, "5E+1234567": true, ".5e-1234567": true,
		"1e999999": false, "1e-000000999999": false, "2.5e12": false, "1e47843": false,
		"12e4567890x": false, "deadbeef1e1234567": false, "1234567890": false, "": false,
	} {
		if got := hugeExponent(s); got != want {
			t.Errorf("hugeExponent(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestHugeExponentQuantities: a quantity with an exponent of many digits is
// an input error naming its line, not hours of rounding in
// resource.ParseQuantity (a six-line pod hung a scan before), and the error
// does not quote it.
func TestHugeExponentQuantities(t *testing.T) {
	for _, q := range []string{"1e901234567890", `"1e-99999999"`} {
		doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  overhead: {cpu: " + q +
			"}\n  containers: [{name: c, image: nginx}]\n"
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
			t.Fatal(err)
		}
		obj, err := New(&root, finding.Location{File: "q.yaml"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = obj.PodTemplate()
		if err == nil {
			t.Fatalf("%s: decoded", q)
		}
		if strings.Contains(err.Error(), strings.Trim(q, `"`)) {
			t.Errorf("%s: the error quotes the value: %v", q, err)
		}
	}
}

// TestNoJSONFormErrorWithholdsValue: a number JSON cannot hold is refused
// by its line, without its text.
func TestNoJSONFormErrorWithholdsValue(t *testing.T) {
	for _, v := range []string{"-.Inf", ".nan", "+.inf"} {
		var root yaml.Node
		if err := yaml.Unmarshal([]byte("k: "+v+"\n"), &root); err != nil {
			t.Fatal(err)
		}
		err := withJSON(&root, func([]byte) error { return nil })
		if err == nil {
			t.Fatalf("%s: converted", v)
		}
		if strings.Contains(err.Error(), v) || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: %v", v, err)
		}
	}
}
