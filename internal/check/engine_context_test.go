package check

import (
	"context"
	"errors"
	"testing"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// TestRunContextStopsBetweenChecks: once the review's context is done, no
// further check runs and the context's error is returned.
func TestRunContextStopsBetweenChecks(t *testing.T) {
	root, err := manifest.ParseYAML([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := object.New(root, finding.Location{File: "x"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran []string
	mk := func(id string, f func()) Check {
		return Check{ID: id, Kinds: []string{AnyKind}, Run: func(*Pass) { ran = append(ran, id); f() }}
	}
	e := NewEngine([]Check{mk("first", cancel), mk("second", func() {})}, NewContext(Options{}, nil))
	_, err = e.RunContext(ctx, obj)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if len(ran) != 1 {
		t.Errorf("checks run after cancellation: %v", ran)
	}
	// Without a context every check runs.
	ran = nil
	if _, err := e.Run(obj); err != nil || len(ran) != 2 {
		t.Errorf("Run: %v, ran %v", err, ran)
	}
}
