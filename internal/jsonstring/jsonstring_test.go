package jsonstring

import (
	"bytes"
	"encoding/json"
	"testing"
)

func encoded(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // HTML escaping on, as the report's encoder had it
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote\`, "<a>&b", "\b\f\n\r\t\x00\x1f", "\u2028\u2029", "caf\xc3\xa9", "bad\xff\xfe", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(Append(nil, s)), encoded(s); got != want {
			t.Errorf("Append(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}
