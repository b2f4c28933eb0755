package check_test

import (
	"fmt"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/manifest"
	"github.com/kubeguard/kubeguard/internal/object"
)

// parse reads the objects of one file's text, as if read from path.
func parse(t testing.TB, path, text string) []*object.Object {
	t.Helper()
	var out []*object.Object
	for _, d := range manifest.Split([]byte(text)) {
		objs, errs := manifest.Parse(path, d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		out = append(out, objs...)
	}
	return out
}

func policy(name, ns, app string) string {
	return fmt.Sprintf("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: %s}\nspec: {podSelector: {matchLabels: {app: %s}}}\n---\n", name, ns, app)
}

const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: x}]}\n"

// TestContextFileSets: copies of one name in different files never hide
// one another: each object is related to the objects of its own file set
// (the files below the directory where the copies part) and of none.
func TestContextFileSets(t *testing.T) {
	var indexed []*object.Object
	indexed = append(indexed, parse(t, "envs/prod/net.yaml", policy("web", "shop", "prod")+policy("extra", "shop", "prod-extra"))...)
	indexed = append(indexed, parse(t, "envs/staging/net.yaml", policy("web", "shop", "staging")+policy("only-staging", "shop", "staging"))...)
	indexed = append(indexed, parse(t, "envs/common.yaml", policy("shared", "shop", "all"))...)
	indexed = append(indexed, parse(t, "envs/prod/same.yaml", policy("twice", "shop", "first")+policy("twice", "shop", "second"))...)
	ctx := check.NewContext(check.Options{}, indexed)

	names := func(c *check.Context) map[string]string {
		m := map[string]string{}
		for _, o := range c.List("NetworkPolicy") {
			m[o.Ref.Name] = o.Source.String()
		}
		return m
	}
	prodPod := parse(t, "envs/prod/app.yaml", pod)[0]
	got := names(ctx.For(prodPod))
	want := map[string]string{
		"web":    "envs/prod/net.yaml:1:1",
		"extra":  "envs/prod/net.yaml:6:1",
		"shared": "envs/common.yaml:1:1",
		"twice":  "envs/prod/same.yaml:1:1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("from envs/prod: %v, want %v", got, want)
	}
	if o := ctx.For(prodPod).Lookup("NetworkPolicy", "shop", "only-staging"); o != nil {
		t.Errorf("from envs/prod, staging's own policy is in reach: %s", o.Source)
	}
	// In one file, the last copy is the one applying the file leaves.
	sameFile := parse(t, "envs/prod/same.yaml", pod)[0]
	if o := ctx.For(sameFile).Lookup("NetworkPolicy", "shop", "twice"); o == nil || o.Source.Line != 6 {
		t.Errorf("from the copies' own file: %v, want the last copy", o)
	}
	stagingPod := parse(t, "envs/staging/app.yaml", pod)[0]
	if o := ctx.For(stagingPod).Lookup("NetworkPolicy", "shop", "web"); o == nil || o.Source.File != "envs/staging/net.yaml" {
		t.Errorf("from envs/staging: %v, want staging's copy", o)
	}
	// Outside every file set, every object is in reach.
	if got := len(ctx.For(parse(t, "other.yaml", pod)[0]).List("NetworkPolicy")); got != 5 {
		t.Errorf("from outside the sets: %d policies, want 5", got)
	}
	if d := ctx.Duplicates(indexed[0]); len(d) != 2 {
		t.Errorf("Duplicates: %d copies, want 2", len(d))
	}
}

// TestContextManyCopies is adversarial: one name in many files, each with
// a pod asking for it, stays linear (each lookup weighs a bounded number of
// copies, each view's list is built once).
func TestContextManyCopies(t *testing.T) {
	const n = 5000
	var indexed, pods []*object.Object
	for i := range n {
		dir := fmt.Sprintf("d%d/", i)
		indexed = append(indexed, parse(t, dir+"net.yaml", policy("web", "shop", "x"))...)
		pods = append(pods, parse(t, dir+"app.yaml", pod)[0])
	}
	ctx := check.NewContext(check.Options{}, indexed)
	for i, p := range pods {
		c := ctx.For(p)
		o := c.Lookup("NetworkPolicy", "shop", "web")
		if o == nil || o.Source.File != fmt.Sprintf("d%d/net.yaml", i) {
			t.Fatalf("pod %d: %v, want its own directory's copy", i, o)
		}
		if l := c.List("NetworkPolicy"); len(l) != 1 {
			t.Fatalf("pod %d: %d policies in reach, want 1", i, len(l))
		}
	}
}
