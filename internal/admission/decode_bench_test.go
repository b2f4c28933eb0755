package admission

import (
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/kubeguard/kubeguard/tools/loadgen/load"
)

// BenchmarkDecode decodes the pod of a load.Mix review, as Pod Security
// asks for it, with the universal deserializer alone and with the
// shortcut in front of it.
func BenchmarkDecode(b *testing.B) {
	bodies, err := load.Mix([]string{"ns"}, 1)
	if err != nil {
		b.Fatal(err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(bodies[0], &review); err != nil {
		b.Fatal(err)
	}
	raw := review.Request.Object.Raw
	for _, d := range []struct {
		name string
		dec  runtime.Decoder
	}{
		{"universal", serializer.NewCodecFactory(scheme).UniversalDeserializer()},
		{"shortcut", decoder},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k := podKind
				if _, _, err := d.dec.Decode(raw, &k, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
