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

// TestAppendEveryByteAnywhere puts every byte value at every position of
// strings long enough to take the eight-byte steps, in the first, middle
// and last word, so that no lane of the word test is left unchecked.
func TestAppendEveryByteAnywhere(t *testing.T) {
	const filler = "abcdefghijklmnopqrstuvwx"
	for c := 0; c < 256; c++ {
		for i := range len(filler) {
			for _, tail := range []string{"", "\xc3\xa9", "\u2028", "z"} {
				s := filler[:i] + string(rune(0)) + filler[i+1:] + tail
				s = s[:i] + string([]byte{byte(c)}) + s[i+1:]
				if got, want := string(Append(nil, s)), encoded(s); got != want {
					t.Fatalf("Append(%q) = %s, encoding/json %s", s, got, want)
				}
			}
		}
	}
}
