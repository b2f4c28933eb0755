package policy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubeguard/kubeguard/internal/audit"
	"github.com/kubeguard/kubeguard/internal/cli"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// call is one request of the matrix.
type call struct {
	user string
	req  audit.Request
}

// url is the request's path and query on the API server.
func (c *call) url() (method, path string) {
	r := &c.req
	if !r.IsResource() {
		return "GET", r.Path
	}
	p := "/api/v1"
	switch r.APIGroup {
	case "":
	case "apps":
		p = "/apis/apps/v1"
	case "rbac.authorization.k8s.io":
		p = "/apis/rbac.authorization.k8s.io/v1"
	default:
		panic("no version for group " + r.APIGroup)
	}
	if r.Namespace != "" {
		p += "/namespaces/" + r.Namespace
	}
	p += "/" + r.Resource
	if r.Name != "" {
		p += "/" + r.Name
	}
	if r.Subresource != "" {
		p += "/" + r.Subresource
	}
	switch r.Verb {
	case "get", "list":
		return "GET", p
	case "watch":
		return "GET", p + "?watch=true"
	case "create":
		return "POST", p
	case "update":
		return "PUT", p
	case "patch":
		return "PATCH", p
	case "delete":
		return "DELETE", p
	}
	panic("no method for verb " + r.Verb)
}

func matrix() []call {
	type res struct {
		group, resource, sub string
		namespaced           bool
		verbs                []string
		names                []string
	}
	all := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	resources := []res{
		{"", "pods", "", true, all, []string{"p1"}},
		{"", "secrets", "", true, all, []string{"s1"}},
		{"", "configmaps", "", true, all, []string{"special", "other"}},
		{"apps", "deployments", "", true, all, []string{"d1"}},
		{"apps", "deployments", "scale", true, []string{"get", "update", "patch"}, []string{"d1"}},
		{"", "pods", "exec", true, []string{"create", "get"}, []string{"p1"}},
		{"", "pods", "attach", true, []string{"create"}, []string{"p1"}},
		{"", "pods", "portforward", true, []string{"create"}, []string{"p1"}},
		{"", "pods", "log", true, []string{"get"}, []string{"p1"}},
		{"", "pods", "status", true, []string{"get", "patch"}, []string{"p1"}},
		{"", "serviceaccounts", "token", true, []string{"create"}, []string{"default"}},
		{"", "nodes", "", false, []string{"get", "list", "watch", "patch"}, []string{"n1"}},
		{"", "namespaces", "", false, []string{"get", "list"}, []string{"audit-a"}},
		{"rbac.authorization.k8s.io", "clusterrolebindings", "", false, []string{"create", "list", "delete"}, []string{"b1"}},
		{"rbac.authorization.k8s.io", "rolebindings", "", true, []string{"create", "get", "delete"}, []string{"b1"}},
	}
	var out []call
	for _, u := range append(slices.Clone(users), apiserverUserAnonymous) {
		groups := append(slices.Clone(u.Groups), "system:authenticated")
		if u.Name == "system:anonymous" {
			groups = []string{"system:unauthenticated"}
		}
		add := func(r audit.Request) {
			r.User, r.Groups = u.Name, groups
			out = append(out, call{user: u.Name, req: r})
		}
		for _, path := range []string{"/healthz", "/healthz/etcd", "/version", "/api", "/apis", "/metrics"} {
			add(audit.Request{Verb: "get", Path: path})
		}
		for _, x := range resources {
			nss := []string{""}
			if x.namespaced {
				nss = []string{"audit-a", "audit-b"}
			}
			for _, ns := range nss {
				for _, v := range x.verbs {
					names := x.names
					if (v == "list" || v == "watch" || v == "create") && x.sub == "" {
						names = []string{""}
					}
					for _, n := range names {
						add(audit.Request{Verb: v, APIGroup: x.group, Resource: x.resource, Subresource: x.sub, Namespace: ns, Name: n})
					}
				}
			}
		}
	}
	return out
}

var apiserverUserAnonymous = struct {
	Name   string
	Groups []string
}{Name: "system:anonymous"}

// event is the part of an audit event the test compares.
type event struct {
	AuditID string `json:"auditID"`
	Level   string `json:"level"`
	Stage   string `json:"stage"`
	Verb    string `json:"verb"`
	User    struct {
		Username string `json:"username"`
	} `json:"user"`
}

func TestPolicyMatchesServer(t *testing.T) {
	ctx := t.Context()
	for _, ns := range []string{"audit-a", "audit-b"} {
		if _, err := srv.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := audit.LoadPolicy("policy.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*http.Client{}
	for _, u := range append([]string{"system:anonymous"}, names()...) {
		cfg, err := srv.ConfigAs(u)
		if err != nil {
			t.Fatal(err)
		}
		c, err := rest.HTTPClientFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		clients[u] = c
		if cfg.BearerToken != "" {
			clients[u].Transport = bearer{cfg.BearerToken, c.Transport}
		}
	}
	calls := matrix()
	ids := make([]string, len(calls))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ids[i], err = do(ctx, clients[calls[i].user], &calls[i])
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// The ResponseComplete events of the watches closed above are written
	// when their handlers return.
	time.Sleep(2 * time.Second)
	events := readEvents(t)
	levels, stages := 0, map[string]int{}
	for i, c := range calls {
		want := p.Evaluate(&c.req)
		evs := events[ids[i]]
		got := audit.Decision{Level: audit.LevelNone, Stages: []string{}}
		for _, e := range evs {
			got.Level = e.Level
			got.Stages = append(got.Stages, e.Stage)
			if e.User.Username != c.user && !(c.user == "system:anonymous" && e.User.Username == "system:anonymous") {
				t.Errorf("%s: event user %q", c.req.String(), e.User.Username)
			}
			if e.Verb != c.req.Verb {
				t.Errorf("%s: the server saw verb %q: the matrix does not make the request it means", c.req.String(), e.Verb)
			}
		}
		if got.Level != want.Level || !slices.Equal(got.Stages, want.Stages) {
			t.Errorf("%s: kubeguard predicts %s %v (rule %d), the server wrote %s %v", c.req.String(), want.Level, want.Stages, want.Rule, got.Level, got.Stages)
		}
		levels++
		stages[want.Level+" "+strings.Join(want.Stages, ",")]++
	}
	// The matrix must exercise the policy: every rule (numbered from 1;
	// 0 is no rule, the default None) decides something and every outcome
	// shape occurs, or agreement proves little.
	decided := map[int]bool{}
	for _, c := range calls {
		decided[p.Evaluate(&c.req).Rule] = true
	}
	for i := 0; i <= len(p.Rules); i++ {
		if !decided[i] {
			t.Errorf("no request of the matrix is decided by rule %d", i)
		}
	}
	t.Logf("%d requests compared; outcomes: %v", levels, stages)

	// The command line, on a sample: every 7th request of the matrix,
	// given as a user would type it, is explained as the server logged it.
	explained := 0
	for i := 0; i < len(calls); i += 7 {
		c := calls[i]
		args := []string{"audit", "policy", "testdata/policy.yaml", "--explain", "-o", "json", "--user", c.user}
		for _, g := range c.req.Groups {
			if g != "system:authenticated" && g != "system:unauthenticated" {
				args = append(args, "--group", g)
			}
		}
		args = append(args, c.req.Verb, explainResource(&c.req))
		if c.req.Namespace != "" {
			args = append(args, "--namespace", c.req.Namespace)
		}
		if c.req.Name != "" {
			args = append(args, "--name", c.req.Name)
		}
		var stdout, stderr bytes.Buffer
		if code := cli.Run(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}); code != cli.ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		var d audit.Decision
		if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		got := audit.Decision{Level: audit.LevelNone, Stages: []string{}}
		for _, e := range events[ids[i]] {
			got.Level = e.Level
			got.Stages = append(got.Stages, e.Stage)
		}
		if d.Level != got.Level || !slices.Equal(d.Stages, got.Stages) {
			t.Errorf("kubeguard %s: %s %v, the server wrote %s %v", strings.Join(args, " "), d.Level, d.Stages, got.Level, got.Stages)
		}
		explained++
	}
	t.Logf("%d requests explained through the command line", explained)
}

// explainResource writes a request's resource as --explain reads it:
// resource.group/subresource, or the path.
func explainResource(r *audit.Request) string {
	if !r.IsResource() {
		return r.Path
	}
	s := r.Resource
	if r.APIGroup != "" {
		s += "." + r.APIGroup
	}
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	return s
}

func names() []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Name)
	}
	return out
}

type bearer struct {
	token string
	rt    http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.rt.RoundTrip(r)
}

// do makes the request and returns the audit ID the server gave it. A
// watch is closed as soon as its headers arrive.
func do(ctx context.Context, c *http.Client, cl *call) (string, error) {
	method, path := cl.url()
	var body io.Reader
	if method != "GET" && method != "DELETE" {
		body = bytes.NewReader([]byte(`{}`))
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, body)
	if err != nil {
		return "", err
	}
	switch method {
	case "PATCH":
		req.Header.Set("Content-Type", "application/merge-patch+json")
	case "POST", "PUT":
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	id := resp.Header.Get("Audit-Id")
	if cl.req.Verb != "watch" {
		io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if id == "" {
		return "", fmt.Errorf("%s %s: no Audit-Id header", method, path)
	}
	return id, nil
}

func readEvents(t *testing.T) map[string][]event {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]event{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		out[e.AuditID] = append(out[e.AuditID], e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
