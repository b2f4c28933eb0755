package audit

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// reviewFindings runs the detections over a log of the outside review
// (testdata/review/README.md).
func reviewFindings(t *testing.T, name string, opts DetectOptions) []finding.Finding {
	t.Helper()
	f, err := os.Open("testdata/review/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := NewDetector(opts)
	if _, err := ReadLog(name, f, Filter{}, d); err != nil {
		t.Fatal(err)
	}
	return d.Findings()
}

// has finds the finding of check about user whose reason holds every
// string of in.
func has(fs []finding.Finding, check, user string, in ...string) *finding.Finding {
	for i := range fs {
		f := &fs[i]
		if f.CheckID != check || !strings.Contains(f.Detail, "user "+user+" ") {
			continue
		}
		ok := true
		for _, s := range in {
			ok = ok && strings.Contains(f.Reason, s)
		}
		if ok {
			return f
		}
	}
	return nil
}

func dump(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %s %s: %s | %s\n", f.Location, f.Severity, f.CheckID, f.Reason, f.Detail)
	}
	return b.String()
}

func TestReviewRoutineController(t *testing.T) {
	fs := reviewFindings(t, "log.json", DetectOptions{})
	if f := has(fs, LogSecretHarvest.ID, "system:serviceaccount:argocd:argocd-application-controller"); f != nil {
		t.Errorf("a controller reading its own namespace's Secrets raised a harvest: %s", f.Reason)
	}
	// The harvest beside it is still found, and names every Secret.
	if has(fs, LogSecretHarvest.ID, "eve", "12 Secrets: ns0/db, ns1/db, ns2/db, ns3/db, ns4/db, ns5/db, ns6/db, ns7/db, ns8/db, ns9/db, ns10/db, ns11/db") == nil {
		t.Errorf("no harvest by eve naming its 12 Secrets:\n%s", dump(fs))
	}
	for _, v := range []string{"U3VwZXJTZWNyZXRWYWx1ZTEyMw", "PLAINTEXTLEAK42", "EnvSecretValue77"} {
		if strings.Contains(dump(fs), v) {
			t.Errorf("a value of the log's bodies reached a finding: %s", v)
		}
	}
}

func TestReviewHarvestNamesSecrets(t *testing.T) {
	fs := reviewFindings(t, "log5.json", DetectOptions{})
	want := "10 Secrets: ns0/db, ns1/db, ns2/db, ns3/db, ns4/db, ns5/db, ns6/db, ns7/db, ns8/db, ns9/db"
	if has(fs, LogSecretHarvest.ID, "eve", want) == nil {
		t.Errorf("exactly 10 reads: want the reason to hold %q:\n%s", want, dump(fs))
	}
}

func TestReviewKubeletExec(t *testing.T) {
	fs := reviewFindings(t, "log2.json", DetectOptions{})
	f := has(fs, LogExec.ID, "m6", "exec on prod/web-0 through the kubelet of node n1 (nodes/proxy)")
	if f == nil {
		t.Fatalf("no exec finding for m6's nodes/proxy exec:\n%s", dump(fs))
	}
	if f.Severity != finding.High || f.Object.Kind != "nodes/proxy" || f.Object.Name != "n1" {
		t.Errorf("got %v on %+v", f.Severity, f.Object)
	}
}

func TestReviewListAndGrants(t *testing.T) {
	fs := reviewFindings(t, "log4.json", DetectOptions{})
	if has(fs, LogSecretHarvest.ID, "lister", "read every Secret of a namespace at once (list;", "1 namespace: prod") == nil {
		t.Errorf("a list of one namespace's Secrets, response not logged, is no harvest:\n%s", dump(fs))
	}
	f := has(fs, LogClusterAdminGrant.ID, "admin", "in namespace prod")
	if f == nil || f.Severity != finding.High || f.Location.Line != 8 {
		t.Errorf("log4.json:8 want a high namespaced grant:\n%s", dump(fs))
	}
}

// secretGets are n gets of distinct Secrets by user, one a second from
// at, in namespace ns (n namespaces when ns is empty).
func secretGets(user, ns string, n int, at time.Duration) []string {
	var out []string
	for i := range n {
		e := ev{id: fmt.Sprintf("%s-%d", user, i), user: user, verb: "get", resource: "secrets", ns: ns, name: fmt.Sprintf("s%02d", i), at: at + time.Duration(i)*time.Second}
		if ns == "" {
			e.ns, e.name = fmt.Sprintf("ns%02d", i), "db"
		}
		out = append(out, e.line())
	}
	return out
}

func TestHarvestNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		in   []string
		out  []string
	}{
		// The reads after the threshold and the ones before it alike.
		{"past the threshold", 14, []string{"14 Secrets: prod/s00, prod/s01,", "prod/s09, prod/s10, prod/s11, prod/s12, prod/s13"}, []string{" and "}},
		{"past the cap", 30, []string{"30 Secrets: prod/s00,", "prod/s19 and 10 more"}, []string{"prod/s20"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := detect(t, DetectOptions{}, secretGets("eve", "prod", tc.n, 0)...)
			f := has(fs, LogSecretHarvest.ID, "eve", tc.in...)
			if f == nil {
				t.Fatalf("want a harvest holding %q:\n%s", tc.in, dump(fs))
			}
			for _, s := range tc.out {
				if strings.Contains(f.Reason, s) {
					t.Errorf("reason holds %q: %s", s, f.Reason)
				}
			}
		})
	}
}

func TestHarvestServiceAccounts(t *testing.T) {
	const sa = "system:serviceaccount:argocd:controller"
	hour := time.Hour
	for _, tc := range []struct {
		name  string
		opts  DetectOptions
		lines []string
		want  bool
	}{
		{"own namespace", DetectOptions{}, secretGets(sa, "argocd", 20, 2*hour), false},
		{"own namespace, no learning", DetectOptions{Learn: -1}, secretGets(sa, "argocd", 20, 0), false},
		{"other namespaces while learned", DetectOptions{}, secretGets(sa, "", 20, 0), false},
		{"other namespaces after learning", DetectOptions{}, append([]string{ev{id: "first", user: sa, verb: "get", resource: "configmaps", ns: "argocd", name: "c"}.line()},
			secretGets(sa, "", 20, 2*hour)...), true},
		{"learned namespaces again", DetectOptions{}, append(secretGets(sa, "", 20, 0), secretGets(sa, "", 20, 2*hour)...), false},
		{"other namespaces, no learning", DetectOptions{Learn: -1}, secretGets(sa, "", 20, 0), true},
		{"a person", DetectOptions{}, secretGets("alice", "argocd", 20, 0), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := detect(t, tc.opts, tc.lines...)
			got := false
			for _, f := range fs {
				got = got || f.CheckID == LogSecretHarvest.ID
			}
			if got != tc.want {
				t.Errorf("harvest %v, want %v:\n%s", got, tc.want, dump(fs))
			}
		})
	}
}

func TestHarvestList(t *testing.T) {
	items := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("s%02d", i), "namespace": "prod"}, "data": map[string]string{"k": secretValue}})
		}
		return out
	}
	list := func(resp any) string {
		return ev{id: "l1", user: "eve", verb: "list", resource: "secrets", ns: "prod", resp: resp}.line()
	}
	for _, tc := range []struct {
		name, line string
		want       string // in the harvest's reason; "" for none
	}{
		{"twelve returned", list(map[string]any{"kind": "SecretList", "items": items(12)}), "12 Secrets: prod/s00, prod/s01"},
		{"three returned", list(map[string]any{"kind": "SecretList", "items": items(3)}), ""},
		{"a table has no data", list(map[string]any{"kind": "Table", "rows": items(12)}), ""},
		{"response not logged", ev{id: "l1", user: "eve", verb: "list", resource: "secrets", ns: "prod"}.line(), "every Secret of a namespace at once (list;"},
		{"watch", ev{id: "w1", user: "eve", verb: "watch", resource: "secrets", ns: "prod"}.line(), "1 namespace: prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := detect(t, DetectOptions{}, tc.line)
			f := has(fs, LogSecretHarvest.ID, "eve")
			switch {
			case tc.want == "" && f != nil:
				t.Errorf("want no harvest, got %s", f.Reason)
			case tc.want != "" && (f == nil || !strings.Contains(f.Reason, tc.want)):
				t.Errorf("want a harvest holding %q:\n%s", tc.want, dump(fs))
			case f != nil && !strings.Contains(f.Detail, "; 1 request from"):
				t.Errorf("one list is one request: %s", f.Detail)
			}
			if strings.Contains(dump(fs), secretValue) {
				t.Error("a Secret value reached a finding")
			}
		})
	}
}

// TestHarvestListAfterThreshold: a list past the threshold adds its
// Secrets, and counts as one request.
func TestHarvestListAfterThreshold(t *testing.T) {
	var items []any
	for i := range 5 {
		items = append(items, map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("l%d", i)}})
	}
	lines := append(secretGets("eve", "prod", 10, 0),
		ev{id: "l1", user: "eve", verb: "list", resource: "secrets", ns: "dev", at: time.Minute, resp: map[string]any{"kind": "SecretList", "items": items}}.line())
	fs, _ := detect(t, DetectOptions{}, lines...)
	f := has(fs, LogSecretHarvest.ID, "eve", "15 Secrets: prod/s00,", "dev/l0, dev/l1, dev/l2, dev/l3, dev/l4")
	if f == nil || !strings.Contains(f.Detail, "; 11 requests from") {
		t.Errorf("want 15 Secrets in 11 requests:\n%s", dump(fs))
	}
}

func TestKubeletExec(t *testing.T) {
	for _, tc := range []struct {
		uri, op, pod string
		ok           bool
	}{
		{"/api/v1/nodes/n1/proxy/exec/prod/web-0/web?command=id", "exec", "prod/web-0", true},
		{"/api/v1/nodes/n1:10250/proxy/run/prod/web-0/web", "run", "prod/web-0", true},
		{"/api/v1/nodes/n1/proxy/attach/prod/web-0/0f7a/web?stdin=1", "attach", "prod/web-0", true},
		{"/api/v1/nodes/n1/proxy/portForward/prod/web-0", "portForward", "prod/web-0", true},
		{"/api/v1/nodes/n1/proxy/exec", "exec", "(pod not named)", true},
		{"/api/v1/nodes/n1/proxy/metrics", "", "", false},
		{"/api/v1/nodes/n1/proxy/containerLogs/prod/web-0/web", "", "", false},
		{"/api/v1/nodes/n1/proxy", "", "", false},
	} {
		op, pod, ok := kubeletExec(tc.uri)
		if op != tc.op || pod != tc.pod || ok != tc.ok {
			t.Errorf("%s: got %q %q %v, want %q %q %v", tc.uri, op, pod, ok, tc.op, tc.pod, tc.ok)
		}
	}
}
