package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/kubeguard/kubeguard/internal/finding"
)

// MaxLine bounds one line of an audit log. The API server's own limit on an
// event is its request size limit (3 MiB) twice over, for the request and
// the response bodies; a longer line is reported and skipped.
const MaxLine = 16 << 20

// Event is the part of an audit.k8s.io/v1 Event the detections read. The
// request and response bodies are not kept: they are decoded only for the
// few events that need them (see Body), and no value of theirs is ever
// reported.
type Event struct {
	AuditID   string    `json:"auditID"`
	Stage     string    `json:"stage"`
	Level     string    `json:"level"`
	Verb      string    `json:"verb"`
	URI       string    `json:"requestURI"`
	User      UserInfo  `json:"user"`
	Imp       *UserInfo `json:"impersonatedUser"`
	SourceIPs []string  `json:"sourceIPs"`
	Object    *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	Status *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	Received    time.Time         `json:"requestReceivedTimestamp"`
	Timestamp   time.Time         `json:"stageTimestamp"`
	Annotations map[string]string `json:"annotations"`

	// Where the event is: file and line.
	Location finding.Location `json:"-"`
	// line holds the raw event while it is being handled, for Body.
	line []byte
}

// UserInfo is an authenticated identity.
type UserInfo struct {
	Username string              `json:"username"`
	UID      string              `json:"uid"`
	Groups   []string            `json:"groups"`
	Extra    map[string][]string `json:"extra"`
}

// Identity is who acted: the impersonated user when impersonation
// succeeded, else the authenticated one.
func (e *Event) Identity() *UserInfo {
	if e.Imp != nil && e.Imp.Username != "" {
		return e.Imp
	}
	return &e.User
}

// Code is the response's status code, 0 when unknown.
func (e *Event) Code() int {
	if e.Status == nil {
		return 0
	}
	return e.Status.Code
}

// Denied reports whether authorization refused the request.
func (e *Event) Denied() bool {
	// The RBAC registry refuses an escalating role or binding with 403
	// after the authorizer allowed the write, so both count.
	return e.Annotations["authorization.k8s.io/decision"] == "forbid" || e.Code() == 403
}

// Succeeded reports whether the request succeeded (or, for exec and
// the like, was upgraded to a stream).
func (e *Event) Succeeded() bool {
	c := e.Code()
	return c >= 100 && c < 400
}

// SourceIP is the address the request came from: the first of the
// event's source IPs, which the API server lists client first (from
// X-Forwarded-For and X-Real-Ip when a proxy set them) and its own peer
// last.
func (e *Event) SourceIP() string {
	if len(e.SourceIPs) == 0 {
		return ""
	}
	return e.SourceIPs[0]
}

// Resource returns the group, resource and subresource of a resource
// request, empty for a non-resource one.
func (e *Event) Resource() (group, resource, sub string) {
	if e.Object == nil {
		return "", "", ""
	}
	return e.Object.APIGroup, e.Object.Resource, e.Object.Subresource
}

// Body decodes the request object, or else the response object, of the
// event into v. It is valid only while the event is being handled.
func (e *Event) Body(v any) bool {
	req, resp := e.bodies()
	raw := req
	if len(raw) == 0 {
		raw = resp
	}
	return len(raw) > 0 && jsonv2.Unmarshal(raw, v) == nil
}

// bodies returns the raw request and response objects; they are decoded
// only for the few events that need them.
func (e *Event) bodies() (req, resp jsontext.Value) {
	var b struct {
		Request  jsontext.Value `json:"requestObject"`
		Response jsontext.Value `json:"responseObject"`
	}
	if jsonv2.Unmarshal(e.line, &b) != nil {
		return nil, nil
	}
	if string(b.Request) == "null" {
		b.Request = nil
	}
	if string(b.Response) == "null" {
		b.Response = nil
	}
	return b.Request, b.Response
}

// Handler is told of each event in order. The event and its strings may
// be reused after Handle returns.
type Handler interface {
	Handle(e *Event)
}

// Filter bounds the events read by time: an event is read when its
// request was received at or after Since and before Until (zero: no bound).
type Filter struct {
	Since, Until time.Time
}

func (f Filter) admits(e *Event) bool {
	t := e.Received
	if t.IsZero() {
		t = e.Timestamp
	}
	return (f.Since.IsZero() || !t.Before(f.Since)) && (f.Until.IsZero() || t.Before(f.Until))
}

// ReadLog reads the JSON-lines audit log r (gzip-compressed or not) named
// file, and hands every event the filter admits to h. A line that is not an
// event is an InputError naming file:line, and the rest is still read; the
// error returned is for the reader's own failure.
func ReadLog(file string, r io.Reader, filter Filter, h Handler) ([]finding.InputError, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	var errs []finding.InputError
	fail := func(line int, msg string) {
		// A log with nothing but bad lines would otherwise make the list
		// of errors as long as the log.
		if len(errs) < maxErrors {
			errs = append(errs, finding.InputError{Location: finding.Location{File: file, Line: line}, Message: msg})
		} else if len(errs) == maxErrors {
			errs = append(errs, finding.InputError{Location: finding.Location{File: file, Line: line}, Message: "more malformed lines; not listed"})
		}
	}
	var (
		e    Event
		line int
		buf  []byte
	)
	for {
		chunk, err := br.ReadSlice('\n')
		line++
		long := false
		if errors.Is(err, bufio.ErrBufferFull) {
			buf = append(buf[:0], chunk...)
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = br.ReadSlice('\n')
				if len(buf) < MaxLine {
					buf = append(buf, chunk...)
				} else {
					long = true
				}
			}
			chunk = buf
		}
		if err != nil && err != io.EOF {
			return errs, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		text := bytes.TrimSpace(chunk)
		switch {
		case long:
			fail(line, fmt.Sprintf("line longer than %d bytes; skipped", MaxLine))
		case len(text) == 0:
		default:
			e = Event{}
			if derr := jsonv2.Unmarshal(text, &e); derr != nil {
				fail(line, "not an audit event: "+describe(derr))
				break
			}
			if e.AuditID == "" || e.Stage == "" {
				fail(line, "not an audit event: no auditID or stage")
				break
			}
			if filter.admits(&e) {
				e.Location = finding.Location{File: file, Line: line}
				e.line = text
				h.Handle(&e)
				e.line = nil
			}
		}
		if err == io.EOF {
			return errs, nil
		}
		if cap(buf) > 4<<20 {
			buf = nil // one long line does not keep its memory for the rest
		}
	}
}

// maxErrors bounds the malformed lines listed per file.
const maxErrors = 100

// describe renders a decoding error without the input it quotes: a
// malformed line of a RequestResponse log may hold a Secret.
func describe(err error) string {
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		s := "a field has the wrong type"
		if se.JSONPointer != "" {
			s = "field " + string(se.JSONPointer) + " has the wrong type"
		}
		return s
	}
	return "invalid JSON"
}
