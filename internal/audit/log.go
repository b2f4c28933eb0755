package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
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
	Received    time.Time   `json:"requestReceivedTimestamp"`
	Timestamp   time.Time   `json:"stageTimestamp"`
	Annotations Annotations `json:"annotations"`

	// Where the event is: file and line.
	Location finding.Location `json:"-"`
	// line holds the raw event while it is being handled, for Body.
	line []byte
}

// UserInfo is an authenticated identity.
type UserInfo struct {
	Username string   `json:"username"`
	UID      string   `json:"uid"`
	Groups   []string `json:"groups"`
	Extra    Extra    `json:"extra"`
}

// Extra is the part of a user's extra information the detections read:
// what a bound ServiceAccount token carries. Decoding these two fields
// instead of a map takes a tenth off reading a log.
type Extra struct {
	CredentialID []string `json:"authentication.kubernetes.io/credential-id"`
	PodName      []string `json:"authentication.kubernetes.io/pod-name"`
}

// Annotations are the event annotations the detections read.
type Annotations struct {
	// Decision is the authorizer's: allow or forbid.
	Decision string `json:"authorization.k8s.io/decision"`
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
	return e.Annotations.Decision == "forbid" || e.Code() == 403
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
	if jsonv2.Unmarshal(e.line, &b, decodeOptions) != nil {
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
// file, and hands every event the filter admits to h, in the log's order.
// A line that is not an event is an InputError naming file:line, and the
// rest is still read; the error returned is for the reader's own failure.
//
// Lines are split here and decoded on every core, in batches: a bounded
// number of batches is in flight, so memory does not grow with the log.
// h is called from one goroutine at a time, not necessarily the caller's.
func ReadLog(file string, r io.Reader, filter Filter, h Handler) ([]finding.InputError, error) {
	_, errs, err := ReadLogStats(file, r, filter, h)
	return errs, err
}

// LogStats count what a log held.
type LogStats struct {
	// Events are the lines that are audit events; Admitted those of them
	// the filter admitted, which the handler was given.
	Events, Admitted int
}

// ReadLogStats is ReadLog that also counts the events read: a log with
// none is no input, which a caller that gates must not take for a pass.
func ReadLogStats(file string, r io.Reader, filter Filter, h Handler) (LogStats, []finding.InputError, error) {
	var stats LogStats
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return stats, nil, fmt.Errorf("%s: %w", file, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<20)
	}
	workers := runtime.GOMAXPROCS(0)
	free := make(chan *batch, 2*workers+2)
	for range cap(free) {
		free <- &batch{}
	}
	work := make(chan *batch, cap(free))
	ordered := make(chan *batch, cap(free))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.decode(file, filter)
				close(b.done)
			}
		})
	}
	var errs []finding.InputError
	fail := func(loc finding.Location, msg string) {
		// A log with nothing but bad lines would otherwise make the list
		// of errors as long as the log.
		if len(errs) < maxErrors {
			errs = append(errs, finding.InputError{Location: loc, Message: msg})
		} else if len(errs) == maxErrors {
			errs = append(errs, finding.InputError{Location: loc, Message: "more malformed lines; not listed"})
		}
	}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for b := range ordered {
			<-b.done
			for i := range b.out {
				it := &b.out[i]
				switch {
				case it.bad != "":
					fail(finding.Location{File: file, Line: b.lines[i].n}, it.bad)
					continue
				case it.ok:
					stats.Admitted++
					h.Handle(&it.ev)
					it.ev = Event{}
				}
				stats.Events++
			}
			free <- b
		}
	}()
	var (
		cur     *batch
		line    int
		buf     []byte
		readErr error
	)
	send := func() {
		if cur != nil && len(cur.lines) > 0 {
			cur.done = make(chan struct{})
			ordered <- cur
			work <- cur
			cur = nil
		}
	}
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
			readErr = fmt.Errorf("%s:%d: %w", file, line, err)
			break
		}
		if text := bytes.TrimSpace(chunk); len(text) > 0 || long {
			if cur == nil {
				cur = <-free
				cur.reset()
			}
			cur.add(line, text, long)
			if len(cur.data) >= batchBytes || len(cur.lines) >= batchLines {
				send()
			}
		}
		if err == io.EOF {
			break
		}
		if cap(buf) > 4<<20 {
			buf = nil // one long line does not keep its memory for the rest
		}
	}
	send()
	close(work)
	close(ordered)
	<-consumed
	wg.Wait()
	return stats, errs, readErr
}

// Batches: big enough that handing them over costs nothing, small enough
// that the batches in flight stay a few megabytes.
const (
	batchBytes = 1 << 20
	batchLines = 2048
)

// batch is a run of lines of a log, decoded together.
type batch struct {
	data  []byte
	lines []lineRef
	out   []decoded
	done  chan struct{}
}

type lineRef struct {
	n          int
	start, end int
	long       bool
}

type decoded struct {
	ev  Event
	ok  bool   // admitted by the filter
	bad string // why the line is not an event
}

func (b *batch) reset() {
	b.data, b.lines, b.out = b.data[:0], b.lines[:0], b.out[:0]
	// A batch that held a long line gives its memory back.
	if cap(b.data) > 4*batchBytes {
		b.data = nil
	}
}

func (b *batch) add(n int, text []byte, long bool) {
	start := len(b.data)
	if !long {
		b.data = append(b.data, text...)
	}
	b.lines = append(b.lines, lineRef{n: n, start: start, end: len(b.data), long: long})
}

// decodeOptions skip the checks an audit log, written by the API server's
// encoder, does not need, and which cost a fifth of the decoding.
var decodeOptions = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

func (b *batch) decode(file string, filter Filter) {
	if cap(b.out) < len(b.lines) {
		b.out = make([]decoded, len(b.lines))
	}
	b.out = b.out[:len(b.lines)]
	for i, l := range b.lines {
		d := &b.out[i]
		*d = decoded{}
		d.ev.Location = finding.Location{File: file, Line: l.n}
		if l.long {
			d.bad = fmt.Sprintf("line longer than %d bytes; skipped", MaxLine)
			continue
		}
		text := b.data[l.start:l.end]
		if err := jsonv2.Unmarshal(text, &d.ev, decodeOptions); err != nil {
			d.bad = "not an audit event: " + describe(err)
			continue
		}
		if d.ev.AuditID == "" || d.ev.Stage == "" {
			d.bad = "not an audit event: no auditID or stage"
			continue
		}
		d.ev.Location = finding.Location{File: file, Line: l.n}
		d.ev.line = text
		d.ok = filter.admits(&d.ev)
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
