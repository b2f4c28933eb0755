package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// TestSpool: what is written comes back whole and in order, from memory
// or, past the limit, from a temporary file that is gone once closed.
func TestSpool(t *testing.T) {
	for _, limit := range []int{1 << 20, 100} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			s := spool{limit: limit}
			var want bytes.Buffer
			for i := range 1000 {
				line := fmt.Sprintf("line %d\n", i)
				want.WriteString(line)
				if _, err := s.Write([]byte(line)); err != nil {
					t.Fatal(err)
				}
			}
			if onDisk := s.file != nil; onDisk != (limit < want.Len()) {
				t.Errorf("in a file: %v, with %d bytes against a limit of %d", onDisk, want.Len(), limit)
			}
			var got bytes.Buffer
			if err := s.copyTo(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Errorf("copied %d bytes, want the %d written", got.Len(), want.Len())
			}
			s.close()
			if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
