// Package clustertest is a fake API server for tests and benchmarks of
// live scans: it serves paginated lists of the objects it is given, and of
// generated ones without holding them, answers metadata-only lists as the
// API server does, refuses the resources it is told to, and records every
// request. It listens on 127.0.0.1 only.
package clustertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// Request is one recorded request.
type Request struct {
	Method, Path, Query, Accept string
}

// Generated serves n objects of a resource made on demand by Make, so that
// a list of many objects costs the server one page at a time.
type Generated struct {
	N    int
	Make func(i int) map[string]any
}

// Server is the fake API server.
type Server struct {
	URL string
	// Kubeconfig is a kubeconfig file pointing at the server.
	Kubeconfig string

	srv       *httptest.Server
	mu        sync.Mutex
	objects   map[string][]map[string]any // resource -> objects
	generated map[string]Generated
	forbidden map[string]bool
	expire    map[string]bool
	requests  []Request
}

// New starts a server holding objs (each with apiVersion, kind and
// metadata); resources are named by the plural lowercase kind.
func New(t testing.TB, objs ...map[string]any) *Server {
	s := &Server{objects: map[string][]map[string]any{}, generated: map[string]Generated{}, forbidden: map[string]bool{}, expire: map[string]bool{}}
	for _, o := range objs {
		s.Add(o)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	s.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: %s
users:
- name: fake
  user:
    token: fake-token
contexts:
- name: fake
  context: {cluster: fake, user: fake}
current-context: fake
`, s.URL)
	if err := os.WriteFile(s.Kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Resource is the plural resource name of a kind, as the API names it.
func Resource(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "y"):
		return k[:len(k)-1] + "ies"
	case strings.HasSuffix(k, "s"):
		return k + "es"
	}
	return k + "s"
}

// Add stores an object.
func (s *Server) Add(o map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Resource(o["kind"].(string))
	s.objects[r] = append(s.objects[r], o)
}

// Generate serves g for a resource, after its stored objects.
func (s *Server) Generate(resource string, g Generated) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generated[resource] = g
}

// Forbid answers 403 to lists of a resource.
func (s *Server) Forbid(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden[resource] = true
}

// Expire answers the next continued list of a resource with 410, as the
// API server does once a list's snapshot is gone: the answer's Status
// carries a continue token that goes on from the same place.
func (s *Server) Expire(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire[resource] = true
}

// Requests returns the requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func status(w http.ResponseWriter, code int, reason, msg string) {
	statusWith(w, code, reason, msg, map[string]any{})
}

func statusWith(w http.ResponseWriter, code int, reason, msg string, meta map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": meta,
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

// route splits /api/v1[/namespaces/NS]/RES or /apis/G/V[/namespaces/NS]/RES.
func route(path string) (ns, resource string, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "", "", false
	}
	switch len(parts) {
	case 1:
		return "", parts[0], true
	case 3:
		if parts[0] == "namespaces" {
			return parts[1], parts[2], true
		}
	}
	return "", "", false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Accept: r.Header.Get("Accept")})
	s.mu.Unlock()
	ns, resource, ok := route(r.URL.Path)
	if !ok || r.Method != http.MethodGet {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	cont := r.URL.Query().Get("continue")
	s.mu.Lock()
	forbidden := s.forbidden[resource]
	stored := s.objects[resource]
	gen := s.generated[resource]
	expire := s.expire[resource] && cont != ""
	if expire {
		s.expire[resource] = false
	}
	s.mu.Unlock()
	if expire {
		statusWith(w, http.StatusGone, "Expired", "the continue token is too old for a consistent list; the token in this answer goes on with an inconsistent one",
			map[string]any{"continue": cont})
		return
	}
	if forbidden {
		status(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("%s is forbidden: User \"fake\" cannot list resource %q", resource, resource))
		return
	}
	if stored == nil && gen.N == 0 && !known[resource] {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 1 << 30
	}
	start, _ := strconv.Atoi(q.Get("continue"))
	total := len(stored) + gen.N
	var items []map[string]any
	i := start
	for ; i < total && len(items) < limit; i++ {
		var o map[string]any
		if i < len(stored) {
			o = stored[i]
		} else {
			o = gen.Make(i - len(stored))
		}
		if ns != "" && namespaceOf(o) != ns {
			continue
		}
		items = append(items, o)
	}
	meta := map[string]any{"resourceVersion": "1"}
	if i < total {
		meta["continue"] = strconv.Itoa(i)
	}
	kind := "List"
	if len(items) > 0 {
		kind = items[0]["kind"].(string) + "List"
	}
	list := map[string]any{"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items}
	if strings.Contains(r.Header.Get("Accept"), "as=PartialObjectMetadataList") {
		pm := make([]map[string]any, len(items))
		for j, o := range items {
			pm[j] = map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}
		}
		list = map[string]any{"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": pm}
	}
	if items == nil {
		list["items"] = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

// known resources answer an empty list when the server holds none; others
// are not served (404), as on a cluster without that API.
var known = map[string]bool{
	"namespaces": true, "pods": true, "serviceaccounts": true, "services": true, "resourcequotas": true, "limitranges": true,
	"replicationcontrollers": true, "secrets": true, "deployments": true, "replicasets": true, "statefulsets": true,
	"daemonsets": true, "jobs": true, "cronjobs": true, "networkpolicies": true, "ingresses": true, "roles": true,
	"clusterroles": true, "rolebindings": true, "clusterrolebindings": true, "customresourcedefinitions": true,
}

func namespaceOf(o map[string]any) string {
	m, _ := o["metadata"].(map[string]any)
	ns, _ := m["namespace"].(string)
	return ns
}

// Objects decodes a multi-document YAML stream into objects for New.
func Objects(t testing.TB, stream string) []map[string]any {
	var out []map[string]any
	for _, doc := range strings.Split(stream, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		var o map[string]any
		if err := json.Unmarshal(j, &o); err != nil {
			t.Fatalf("fixture: %v", err)
		}
		out = append(out, o)
	}
	return out
}
