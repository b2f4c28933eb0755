package report

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kubeguard/kubeguard/internal/finding"
)

func TestByObject(t *testing.T) {
	pod := func(name string) finding.ObjectRef {
		return finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: name}
	}
	f := func(name, file string, line int) finding.Finding {
		return finding.Finding{CheckID: name + "@" + file, Object: pod(name), Location: at(file, line, 1)}
	}
	obj := func(name, file string, line int) Object { return Object{Ref: pod(name), Location: at(file, line, 1)} }
	// want maps each object, written name@file:line, to the findings
	// grouped under it.
	tests := []struct {
		name     string
		objects  []Object
		findings []finding.Finding
		want     map[string][]string
	}{
		{
			name:     "findings out of order go to their objects",
			objects:  []Object{obj("a", "x.yaml", 1), obj("b", "x.yaml", 10)},
			findings: []finding.Finding{f("b", "x.yaml", 12), f("a", "x.yaml", 3), f("b", "x.yaml", 11)},
			want:     map[string][]string{"a@x.yaml:1": {"a@x.yaml"}, "b@x.yaml:10": {"b@x.yaml", "b@x.yaml"}},
		},
		{
			name:     "same name in two files",
			objects:  []Object{obj("a", "x.yaml", 1), obj("a", "y.yaml", 1)},
			findings: []finding.Finding{f("a", "y.yaml", 2)},
			want:     map[string][]string{"a@x.yaml:1": nil, "a@y.yaml:1": {"a@y.yaml"}},
		},
		{
			name:     "duplicated document: by line",
			objects:  []Object{obj("a", "x.yaml", 1), obj("a", "x.yaml", 20)},
			findings: []finding.Finding{f("a", "x.yaml", 25), f("a", "x.yaml", 5), f("a", "x.yaml", 0)},
			want:     map[string][]string{"a@x.yaml:1": {"a@x.yaml", "a@x.yaml"}, "a@x.yaml:20": {"a@x.yaml"}},
		},
		{
			name:     "finding about something not scanned",
			objects:  []Object{obj("a", "x.yaml", 1)},
			findings: []finding.Finding{f("cfg", ".kubeguard.yaml", 7), f("cfg", ".kubeguard.yaml", 9)},
			want:     map[string][]string{"a@x.yaml:1": nil, "cfg@.kubeguard.yaml:0": {"cfg@.kubeguard.yaml", "cfg@.kubeguard.yaml"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			groups := byObject(tt.objects, tt.findings)
			for _, g := range groups {
				key := g.Object.Ref.Name + "@" + g.Object.Location.File + ":" + strconv.Itoa(g.Object.Location.Line)
				got[key] = nil
				for _, f := range g.Findings {
					got[key] = append(got[key], f.CheckID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if n := len(tt.objects); len(groups) < n {
				t.Errorf("got %d groups, want every one of the %d objects", len(groups), n)
			}
		})
	}
}
