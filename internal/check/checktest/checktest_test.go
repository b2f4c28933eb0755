package checktest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
)

func TestExpectations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yaml")
	src := "a: 1\nb: 2  # want: one, two\nc: 3 # want:three\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := expectations(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []expectation{{2, "one"}, {2, "two"}, {3, "three"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(expectation{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCompare proves the harness can fail: a missing, a misplaced and an
// unexpected finding are each reported.
func TestCompare(t *testing.T) {
	at := func(id string, line int) finding.Finding {
		return finding.Finding{CheckID: id, Location: finding.Location{Line: line}}
	}
	tests := []struct {
		name string
		got  []finding.Finding
		want []expectation
		n    int
	}{
		{name: "match", got: []finding.Finding{at("x", 3)}, want: []expectation{{3, "x"}}, n: 0},
		{name: "missing", got: nil, want: []expectation{{3, "x"}}, n: 1},
		{name: "wrong line", got: []finding.Finding{at("x", 4)}, want: []expectation{{3, "x"}}, n: 2},
		{name: "wrong check", got: []finding.Finding{at("y", 3)}, want: []expectation{{3, "x"}}, n: 2},
		{name: "unexpected", got: []finding.Finding{at("x", 3)}, want: nil, n: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compare(tt.got, tt.want); len(got) != tt.n {
				t.Errorf("compare() = %q, want %d problems", got, tt.n)
			}
		})
	}
}
