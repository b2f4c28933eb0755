package audit

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/finding"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// ev builds one ResponseComplete event line.
type ev struct {
	id, user, ip, verb, group, resource, sub, ns, name, uri string
	groups                                                  []string
	code                                                    int
	at                                                      time.Duration
	extra                                                   map[string][]string
	req, resp                                               any
	stage                                                   string
}

func (e ev) line() string {
	m := map[string]any{
		"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
		"auditID": e.id, "stage": cmpOr(e.stage, "ResponseComplete"), "verb": e.verb, "requestURI": cmpOr(e.uri, "/x"),
		"user":                     map[string]any{"username": e.user, "groups": e.groups, "extra": e.extra},
		"sourceIPs":                []string{cmpOr(e.ip, "10.0.0.1")},
		"responseStatus":           map[string]any{"code": cmpInt(e.code, 200)},
		"requestReceivedTimestamp": t0.Add(e.at).Format(time.RFC3339Nano),
		"stageTimestamp":           t0.Add(e.at).Format(time.RFC3339Nano),
	}
	if e.resource != "" {
		m["objectRef"] = map[string]any{"resource": e.resource, "subresource": e.sub, "namespace": e.ns, "name": e.name, "apiGroup": e.group}
	}
	if e.req != nil {
		m["requestObject"] = e.req
	}
	if e.resp != nil {
		m["responseObject"] = e.resp
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

func cmpInt(a, b int) int {
	if a == 0 {
		return b
	}
	return a
}

func detect(t *testing.T, opts DetectOptions, lines ...string) ([]finding.Finding, []finding.InputError) {
	t.Helper()
	d := NewDetector(opts)
	errs, err := ReadLog("audit.log", strings.NewReader(strings.Join(lines, "")), Filter{}, d)
	if err != nil {
		t.Fatal(err)
	}
	return d.Findings(), errs
}

const secretValue = "aHVudGVyMg-very-secret-value"

func TestDetections(t *testing.T) {
	var harvest, slow, routine []string
	for i := range 12 {
		harvest = append(harvest, ev{id: fmt.Sprintf("h%d", i), user: "mallory", verb: "get", resource: "secrets", ns: "prod", name: fmt.Sprintf("s%d", i), at: time.Duration(i) * time.Second,
			resp: map[string]any{"kind": "Secret", "data": map[string]string{"password": secretValue}}}.line())
		slow = append(slow, ev{id: fmt.Sprintf("w%d", i), user: "app", verb: "get", resource: "secrets", ns: "prod", name: fmt.Sprintf("s%d", i), at: time.Duration(i) * 20 * time.Minute}.line())
	}
	for i := range 100 {
		routine = append(routine,
			ev{id: fmt.Sprintf("r%d", i), user: "system:kube-controller-manager", verb: "get", resource: "secrets", ns: "kube-system", name: fmt.Sprintf("s%d", i), at: time.Duration(i) * time.Second}.line(),
			ev{id: fmt.Sprintf("d%d", i), user: "system:serviceaccount:kube-system:daemon-set-controller", verb: "create", resource: "pods", ns: "kube-system", name: fmt.Sprintf("kube-proxy-%d", i),
				req: map[string]any{"spec": map[string]any{"hostNetwork": true}}}.line(),
			ev{id: fmt.Sprintf("t%d", i), user: "system:serviceaccount:prod:web", ip: "10.1.0.5", verb: "get", resource: "configmaps", ns: "prod", name: "cfg",
				extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=aaa"}}}.line(),
		)
	}
	for _, tc := range []struct {
		name  string
		lines []string
		want  []string // check IDs
		in    []string // strings the findings' text must hold
	}{
		{"exec", []string{
			ev{id: "e1", user: "alice", ip: "192.0.2.7", verb: "create", resource: "pods", sub: "exec", ns: "prod", name: "web-1", code: 101}.line(),
			ev{id: "e1", user: "alice", ip: "192.0.2.7", verb: "create", resource: "pods", sub: "exec", ns: "prod", name: "web-1", code: 101, stage: "ResponseStarted"}.line(),
		}, []string{"audit-log-exec"}, []string{"alice", "192.0.2.7", "e1", "pods/exec", "1 request "}},
		{"exec refused", []string{ev{id: "e2", user: "bob", verb: "create", resource: "pods", sub: "attach", ns: "prod", name: "web-1", code: 403}.line()},
			[]string{"audit-log-exec"}, []string{"(none succeeded)"}},
		{"ephemeral container", []string{ev{id: "e3", user: "bob", verb: "patch", resource: "pods", sub: "ephemeralcontainers", ns: "prod", name: "web-1"}.line()},
			[]string{"audit-log-exec"}, []string{"ephemeralcontainers"}},
		{"secret harvest", harvest, []string{"audit-log-secret-harvest"}, []string{"mallory", "h0", "h9", "10 or more distinct Secrets", "12 requests"}},
		{"slow secret reads", slow, nil, nil},
		{"cluster-wide secret list", []string{ev{id: "l1", user: "mallory", verb: "list", resource: "secrets"}.line()}, []string{"audit-log-secret-harvest"}, []string{"every namespace"}},
		{"anonymous probing", []string{
			ev{id: "a1", user: "system:anonymous", groups: []string{"system:unauthenticated"}, uri: "/healthz"}.line(),
			ev{id: "a2", user: "system:anonymous", groups: []string{"system:unauthenticated"}, uri: "/api/v1/secrets", verb: "list", resource: "secrets", code: 403}.line(),
		}, []string{"audit-log-anonymous"}, []string{"a2", "non-public"}},
		{"anonymous healthz only", []string{ev{id: "a1", user: "system:anonymous", uri: "/readyz?verbose"}.line()}, nil, nil},
		{"escalation denied", []string{
			ev{id: "x1", user: "mallory", verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", code: 403}.line(),
			ev{id: "x2", user: "mallory", verb: "get", resource: "pods", code: 403}.line(),
		}, []string{"audit-log-escalation-denied"}, []string{"x1", "clusterrolebindings"}},
		{"cluster-admin grant", []string{
			ev{id: "g1", user: "alice", verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", name: "pwn", code: 201,
				req: map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": []map[string]string{{"kind": "User", "name": "mallory"}}}}.line(),
			ev{id: "g2", user: "alice", verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", ns: "a", name: "ok", code: 201,
				req: map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "view"}}}.line(),
		}, []string{"audit-log-cluster-admin-grant"}, []string{"User mallory", "g1"}},
		{"star role", []string{ev{id: "g3", user: "alice", verb: "update", group: "rbac.authorization.k8s.io", resource: "clusterroles", name: "x",
			req: map[string]any{"rules": []map[string][]string{{"apiGroups": {"*"}, "resources": {"*"}, "verbs": {"*"}}}}}.line()},
			[]string{"audit-log-cluster-admin-grant"}, []string{"every verb"}},
		{"privileged pod", []string{ev{id: "p1", user: "alice", verb: "create", resource: "pods", ns: "prod", name: "x", code: 201,
			req: map[string]any{"spec": map[string]any{"hostPID": true, "containers": []any{map[string]any{"name": "c", "securityContext": map[string]any{"privileged": true}}}}}}.line()},
			[]string{"audit-log-privileged-pod"}, []string{"hostPID", "privileged container c"}},
		{"privileged daemonset", []string{ev{id: "p2", user: "alice", verb: "create", group: "apps", resource: "daemonsets", ns: "prod", name: "x", code: 201,
			req: map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"volumes": []any{map[string]any{"name": "root", "hostPath": map[string]any{"path": "/"}}}}}}}}.line()},
			[]string{"audit-log-privileged-pod"}, []string{"hostPath volume root"}},
		{"token reuse", []string{
			ev{id: "k1", user: "system:serviceaccount:prod:web", ip: "10.1.0.5", verb: "get", resource: "pods", extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=abc"}, "authentication.kubernetes.io/pod-name": {"web-1"}}}.line(),
			ev{id: "k2", user: "system:serviceaccount:prod:web", ip: "203.0.113.9", verb: "list", resource: "pods", extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"JTI=abc"}, "authentication.kubernetes.io/pod-name": {"web-1"}}}.line(),
		}, []string{"audit-log-token-reuse"}, []string{"203.0.113.9", "10.1.0.5", "k2", "web-1"}},
		{"routine controllers", routine, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, errs := detect(t, DetectOptions{}, tc.lines...)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var got []string
			var text strings.Builder
			for _, f := range fs {
				got = append(got, f.CheckID)
				fmt.Fprintf(&text, "%s %s %s %s\n", f.CheckID, f.Reason, f.Detail, f.Location)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("findings %v, want %v:\n%s", got, tc.want, text.String())
			}
			for _, s := range tc.in {
				if !strings.Contains(text.String(), s) {
					t.Errorf("findings lack %q:\n%s", s, text.String())
				}
			}
			if strings.Contains(text.String(), secretValue) {
				t.Errorf("a Secret value reached a finding:\n%s", text.String())
			}
		})
	}
}

func TestReadLogMalformed(t *testing.T) {
	good := ev{id: "e1", user: "alice", verb: "create", resource: "pods", sub: "exec", ns: "p", name: "w"}.line()
	in := good + "{not json " + secretValue + "\n" + `{"auditID": 5}` + "\n" + `{"kind":"Event"}` + "\n\n" +
		strings.Replace(good, `"e1"`, `"e9"`, 1)
	d := NewDetector(DetectOptions{})
	errs, err := ReadLog("a.log", strings.NewReader(in), Filter{}, d)
	if err != nil {
		t.Fatal(err)
	}
	var where []string
	for _, e := range errs {
		where = append(where, e.Location.String())
		if strings.Contains(e.Message, secretValue) {
			t.Errorf("error quotes the input: %s", e.Message)
		}
	}
	if !slices.Equal(where, []string{"a.log:2", "a.log:3", "a.log:4"}) {
		t.Errorf("errors at %v, want a.log:2, 3 and 4", where)
	}
	fs := d.Findings()
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "e9") || fs[0].Location.Line != 1 {
		t.Fatalf("the lines after the bad ones were not read: %+v", fs)
	}
}

func TestReadLogGzipAndFilter(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range 5 {
		zw.Write([]byte(ev{id: fmt.Sprintf("e%d", i), user: "alice", verb: "create", resource: "pods", sub: "exec", ns: "p", name: "w", at: time.Duration(i) * time.Hour}.line()))
	}
	zw.Close()
	d := NewDetector(DetectOptions{})
	errs, err := ReadLog("a.log.gz", &buf, Filter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, d)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	fs := d.Findings()
	if len(fs) != 1 || !strings.Contains(fs[0].Detail, "2 requests") || !strings.Contains(fs[0].Detail, "e1, e2") {
		t.Fatalf("want e1 and e2 only: %+v", fs)
	}
}

func TestReadLogLongLine(t *testing.T) {
	long := `{"auditID":"x","stage":"ResponseComplete","pad":"` + strings.Repeat("a", MaxLine+10) + `"}` + "\n"
	good := ev{id: "e1", user: "alice", verb: "create", resource: "pods", sub: "exec", ns: "p", name: "w"}.line()
	d := NewDetector(DetectOptions{})
	errs, err := ReadLog("a.log", strings.NewReader(long+good), Filter{}, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Location.Line != 1 || !strings.Contains(errs[0].Message, "longer") {
		t.Fatalf("errors %v", errs)
	}
	if fs := d.Findings(); len(fs) != 1 || fs[0].Location.Line != 2 {
		t.Fatalf("findings %+v", fs)
	}
}

// TestDetectorMemoryBounded feeds one identity's reads of ever more
// Secrets and a token's use from ever more addresses: the state kept stays
// within the bounds, whatever the number of events.
func TestDetectorMemoryBounded(t *testing.T) {
	// A ServiceAccount of another namespace, nothing learned: every read
	// counts towards the harvest.
	d := NewDetector(DetectOptions{Learn: -1})
	for i := range 100000 {
		e := Event{AuditID: fmt.Sprint(i), Stage: "ResponseComplete", Verb: "get", Received: t0.Add(time.Duration(i) * time.Millisecond),
			User:      UserInfo{Username: "system:serviceaccount:x:b", Extra: Extra{CredentialID: []string{"JTI=1"}}},
			SourceIPs: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}
		e.Object = &struct {
			Resource    string `json:"resource"`
			Namespace   string `json:"namespace"`
			Name        string `json:"name"`
			APIGroup    string `json:"apiGroup"`
			Subresource string `json:"subresource"`
		}{Resource: "secrets", Namespace: "a", Name: fmt.Sprint(i)}
		e.Status = &struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}{Code: 200}
		d.Handle(&e)
	}
	for _, w := range d.secrets {
		if len(w.last) > 10 {
			t.Errorf("secret window holds %d reads", len(w.last))
		}
	}
	harvests := 0
	for _, g := range d.groups {
		if len(g.ids) > maxIDs || len(g.addrs) > maxAddrs {
			t.Errorf("a finding holds %d IDs and %d addresses", len(g.ids), len(g.addrs))
		}
		if g.secrets != nil {
			harvests++
			if len(g.secrets.names) > maxNamed || len(g.secrets.seen) > maxTracked || g.secrets.count() != 100000 {
				t.Errorf("the harvest holds %d names and %d remembered, counts %d of 100000", len(g.secrets.names), len(g.secrets.seen), g.secrets.count())
			}
		}
	}
	if harvests != 1 {
		t.Errorf("%d harvests, want 1", harvests)
	}
	if len(d.order) > 3 {
		t.Errorf("%d findings for one identity's harvest", len(d.order))
	}
}

func FuzzReadLog(f *testing.F) {
	f.Add([]byte(ev{id: "e1", user: "alice", verb: "create", resource: "pods", sub: "exec", ns: "p", name: "w"}.line()))
	f.Add([]byte(ev{id: "g1", user: "alice", verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", code: 201,
		req: map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "cluster-admin"}}}.line()))
	f.Add([]byte(ev{id: "p1", user: "alice", verb: "create", resource: "pods", ns: "prod", name: "x", code: 201,
		req: map[string]any{"spec": map[string]any{"hostPID": true}}}.line()))
	f.Add([]byte("{\n}\n\x1f\x8b"))
	f.Add([]byte(`{"auditID":"a","stage":"ResponseComplete","objectRef":null,"user":{"extra":{"authentication.kubernetes.io/credential-id":["x"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDetector(DetectOptions{SecretReads: 2})
		errs, _ := ReadLog("f.log", bytes.NewReader(data), Filter{}, d)
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range errs {
			if e.Location.Line < 1 || e.Location.Line > lines {
				t.Fatalf("error at line %d of %d", e.Location.Line, lines)
			}
		}
		for _, f := range d.Findings() {
			if f.CheckID == "" || f.Location.Line < 1 {
				t.Fatalf("finding without check or line: %+v", f)
			}
		}
	})
}

func TestBootstrapGrantIsRoutine(t *testing.T) {
	fs, _ := detect(t, DetectOptions{},
		ev{id: "b1", user: "system:apiserver", verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", name: "cluster-admin", code: 201,
			req: map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "cluster-admin"}}}.line())
	if len(fs) != 0 {
		t.Fatalf("the API server's bootstrap raised %+v", fs)
	}
}

func TestUnusualRequests(t *testing.T) {
	sa := "system:serviceaccount:prod:web"
	lines := []string{
		ev{id: "u1", user: sa, verb: "get", resource: "configmaps", ns: "prod", name: "cfg"}.line(),
		ev{id: "u2", user: sa, verb: "list", resource: "pods", ns: "prod", at: 30 * time.Minute}.line(),
		ev{id: "u3", user: "system:node:n1", verb: "get", resource: "nodes", name: "n1"}.line(),
		// After the hour of learning: the routine again, then new kinds.
		ev{id: "u4", user: sa, verb: "get", resource: "configmaps", ns: "prod", name: "cfg", at: 2 * time.Hour}.line(),
		ev{id: "u5", user: "system:node:n1", verb: "get", resource: "nodes", name: "n1", at: 2 * time.Hour}.line(),
		ev{id: "u6", user: sa, verb: "get", resource: "configmaps", ns: "payments", name: "cfg", at: 2 * time.Hour}.line(),
		ev{id: "u7", user: sa, verb: "list", resource: "secrets", at: 2 * time.Hour}.line(),
		ev{id: "u8", user: "system:node:n1", verb: "delete", resource: "pods", ns: "prod", name: "x", at: 3 * time.Hour}.line(),
		// A routine identity learns nothing and raises nothing.
		ev{id: "u9", user: "system:serviceaccount:kube-system:job-controller", verb: "create", resource: "pods", ns: "a", at: 3 * time.Hour}.line(),
	}
	fs, errs := detect(t, DetectOptions{SecretReads: 100}, lines...)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, f := range fs {
		if f.CheckID == LogUnusual.ID {
			got = append(got, f.Object.Name+": "+f.Detail)
		}
	}
	if len(got) != 2 || !strings.Contains(got[0], "get configmaps in namespace payments") || !strings.Contains(got[0], "list secrets in cluster") ||
		!strings.Contains(got[0], "u6, u7") || !strings.Contains(got[1], "delete pods in namespaced") {
		t.Fatalf("unusual requests: %q", got)
	}
	if fs, _ := detect(t, DetectOptions{SecretReads: 100, Learn: -1}, lines...); slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.CheckID == LogUnusual.ID }) {
		t.Error("Learn < 0 does not turn the detection off")
	}
}

// TestGrantScope: cluster-admin bound in one namespace, or a Role allowing
// everything, gives that namespace, not the cluster: high, worded so,
// except in kube-system (the outside review's log4.json:8 was critical
// "cluster-admin power granted").
func TestGrantScope(t *testing.T) {
	bind := func(id, resource, ns string) string {
		return ev{id: id, user: "admin", verb: "create", group: "rbac.authorization.k8s.io", resource: resource, ns: ns, code: 201,
			req: map[string]any{"roleRef": map[string]string{"kind": "ClusterRole", "name": "cluster-admin"}, "subjects": []map[string]string{{"kind": "User", "name": "mallory"}}}}.line()
	}
	star := func(id, resource, ns string) string {
		return ev{id: id, user: "admin", verb: "create", group: "rbac.authorization.k8s.io", resource: resource, ns: ns, name: "all", code: 201,
			req: map[string]any{"rules": []map[string][]string{{"apiGroups": {"*"}, "resources": {"*"}, "verbs": {"*"}}}}}.line()
	}
	for _, tc := range []struct {
		name, line string
		sev        finding.Severity
		in         string
	}{
		{"cluster binding", bind("c1", "clusterrolebindings", ""), finding.Critical, "cluster-wide to User mallory: every verb on every resource of the cluster"},
		{"namespaced binding", bind("n1", "rolebindings", "prod"), finding.High, "in namespace prod to User mallory: every verb on every resource of namespace prod"},
		{"kube-system binding", bind("k1", "rolebindings", "kube-system"), finding.Critical, "resource of kube-system"},
		{"cluster role", star("c2", "clusterroles", ""), finding.Critical, "allowing every verb on every resource"},
		{"namespaced role", star("n2", "roles", "prod"), finding.High, "allowing every verb on every resource of namespace prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, _ := detect(t, DetectOptions{}, tc.line)
			if len(fs) != 1 || fs[0].CheckID != LogClusterAdminGrant.ID {
				t.Fatalf("want one %s, got %+v", LogClusterAdminGrant.ID, fs)
			}
			if fs[0].Severity != tc.sev || !strings.Contains(fs[0].Reason, tc.in) {
				t.Errorf("got %v %q, want %v and %q", fs[0].Severity, fs[0].Reason, tc.sev, tc.in)
			}
			if tc.sev != finding.Critical && strings.Contains(fs[0].Reason, "cluster-wide") {
				t.Errorf("a namespaced grant called cluster-wide: %q", fs[0].Reason)
			}
		})
	}
}
