package cluster

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
	"unicode"
)

// FuzzConfigz serves any status and body as the node proxy's answer: the
// proxy never panics, hands on a 200 answer within the limit as it came,
// and otherwise fails with a *NodeError whose message is short and
// printable, whatever the body held.
func FuzzConfigz(f *testing.F) {
	f.Add(200, []byte(`{"kubeletconfig":{}}`))
	f.Add(403, []byte(`{"kind":"Status","message":"nodes \"n\" is forbidden: User \"u\" cannot get resource \"nodes/proxy\"","reason":"Forbidden"}`))
	f.Add(403, []byte("Forbidden (user=kube-apiserver, verb=get, resource=nodes, subresource(s)=[proxy])"))
	f.Add(503, []byte(`{"kind":"Status","message":"error trying to reach service: dial tcp: connect: connection refused\u0000\u001b[31m"}`))
	f.Add(401, []byte(`{"kind":"Status"}`))
	f.Add(302, []byte(``))
	f.Add(200, bytes.Repeat([]byte("x"), 5000))
	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code, b := status, body
		mu.Unlock()
		w.WriteHeader(code)
		w.Write(b)
	}))
	defer srv.Close()
	p := &NodeProxy{Client: srv.Client(), Server: srv.URL, Timeout: 5 * time.Second, Limit: 4096}
	f.Fuzz(func(t *testing.T, code int, data []byte) {
		if code < 200 || code > 599 || code == 204 || code == 304 || code >= 300 && code < 400 {
			return // statuses that carry no body, or that the client follows
		}
		mu.Lock()
		status, body = code, data
		mu.Unlock()
		got, err := p.Configz(context.Background(), "n")
		if err == nil {
			if code != 200 || !bytes.Equal(got, data) || len(data) > 4096 {
				t.Fatalf("status %d, %d bytes handed on as the answer", code, len(got))
			}
			return
		}
		var ne *NodeError
		if !errors.As(err, &ne) || ne.Node != "n" {
			t.Fatalf("error %v (%T)", err, err)
		}
		msg := err.Error()
		if len(msg) > 1500 {
			t.Fatalf("a message of %d bytes", len(msg))
		}
		for _, r := range msg {
			if !unicode.IsPrint(r) {
				t.Fatalf("unprintable %q in %q", r, msg)
			}
		}
	})
}
