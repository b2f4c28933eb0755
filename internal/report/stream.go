package report

import (
	"bufio"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/kubeguard/kubeguard/internal/check"
	"github.com/kubeguard/kubeguard/internal/finding"
)

// A Sink takes a scan's results: each input document's objects, findings
// and errors go into a Part, on the goroutine that checked the document,
// and the parts reach Write one by one in input order.
type Sink interface {
	// Encode adds an object and its findings to p. It is safe for
	// concurrent use on different parts; fs is not kept after it returns.
	Encode(p *Part, o Object, fs []finding.Finding)
	// Write takes the next part in input order. p is not kept after it
	// returns.
	Write(p *Part) error
}

// A Part is one input document's share of a report.
type Part struct {
	// Errors are the document's input errors, added by the scan.
	Errors  []finding.InputError
	sum     Summary
	failing int               // objects with findings not suppressed
	data    []byte            // findings encoded, for a Stream
	listed  []byte            // objects encoded, for a Stream
	objects []Object          // for a Collector
	kept    []finding.Finding // copied, for a Collector
}

// Reset empties p for reuse, keeping its memory.
func (p *Part) Reset() {
	clear(p.kept) // the findings' strings would stay reachable
	*p = Part{Errors: p.Errors[:0], data: p.data[:0], listed: p.listed[:0], objects: p.objects[:0], kept: p.kept[:0]}
}

// Summary counts what a report holds.
type Summary struct {
	Objects, Errors int
	// Active and Suppressed count findings by severity. Suppressed
	// findings are reported but never fail a scan.
	Active, Suppressed [finding.Critical + 1]int
	// SuppressedBy counts suppressed findings by the kind of suppression.
	SuppressedBy map[string]int
}

// Summarize counts what r holds.
func Summarize(r *Report) Summary {
	s := Summary{Objects: len(r.Objects), Errors: len(r.Errors)}
	s.count(r.Findings)
	return s
}

// failing counts the groups with findings that are not suppressed.
func failing(groups []objectFindings) int {
	n := 0
	for _, g := range groups {
		if slices.ContainsFunc(g.Findings, active) {
			n++
		}
	}
	return n
}

// Findings is the number of findings, suppressed ones included.
func (s *Summary) Findings() int {
	n := 0
	for i := range s.Active {
		n += s.Active[i] + s.Suppressed[i]
	}
	return n
}

// Fails says whether a finding that is not suppressed is at or above sev.
func (s *Summary) Fails(sev finding.Severity) bool {
	for i := max(sev, 0); i <= finding.Critical; i++ {
		if s.Active[i] > 0 {
			return true
		}
	}
	return false
}

func (s *Summary) count(fs []finding.Finding) {
	for i := range fs {
		f := &fs[i]
		sev := min(max(f.Severity, finding.Info), finding.Critical)
		if f.Suppressed == nil {
			s.Active[sev]++
			continue
		}
		s.Suppressed[sev]++
		if s.SuppressedBy == nil {
			s.SuppressedBy = map[string]int{}
		}
		s.SuppressedBy[f.Suppressed.Kind]++
	}
}

func (s *Summary) add(o *Summary) {
	s.Objects += o.Objects
	s.Errors += o.Errors
	for i := range s.Active {
		s.Active[i] += o.Active[i]
		s.Suppressed[i] += o.Suppressed[i]
	}
	for k, n := range o.SuppressedBy {
		if s.SuppressedBy == nil {
			s.SuppressedBy = map[string]int{}
		}
		s.SuppressedBy[k] += n
	}
}

// Collector is a Sink that keeps everything in a Report, for the formats
// that need the whole report before they write (JUnit) and for tests.
type Collector struct {
	Report Report
}

// Encode implements Sink.
func (c *Collector) Encode(p *Part, o Object, fs []finding.Finding) {
	p.objects = append(p.objects, o)
	p.kept = append(p.kept, fs...)
}

// Write implements Sink.
func (c *Collector) Write(p *Part) error {
	r := &c.Report
	r.Objects = append(r.Objects, p.objects...)
	r.Findings = append(r.Findings, p.kept...)
	r.Errors = append(r.Errors, p.Errors...)
	return nil
}

// Head is what a report holds before the first part: for a scan, the
// checks that run and the findings known before it (expired exemptions);
// for a whole report written at once, everything.
type Head struct {
	Version string
	// Config is the configuration file the scan used, "" for none: every
	// format names it, since it can disable checks.
	Config   string
	Checks   []check.Check
	Objects  []Object
	Findings []finding.Finding
	Errors   []finding.InputError
}

// streamer is an Output that can be written while the scan runs.
type streamer interface {
	Output
	encoder(h *Head) encoder
}

// encoder writes one report in a format.
type encoder interface {
	// head writes what comes before the parts; the head's findings
	// are its to place, here (put) or in the tail.
	head(s *Stream) error
	// part appends an object's findings in the format. It is safe for
	// concurrent use; o is nil for findings about no scanned object.
	part(b []byte, o *Object, fs []finding.Finding) []byte
	// object appends an object as the format lists the objects, if it
	// does. It is safe for concurrent use.
	object(b []byte, o *Object) []byte
	// tail writes what comes after the parts.
	tail(s *Stream) error
}

// Stream is a Sink that writes a report as the scan produces it: each
// part is encoded by Encode on the goroutine that checked its document
// and written in input order. Only the errors and the counts are kept in
// memory. What a format writes after something that is known only at the
// end (JSON's list of objects, after the findings; JUnit's test cases,
// after their counts) waits in a spool, so that memory does not grow with
// the input.
type Stream struct {
	h  Head
	bw *bufio.Writer // the output
	// list is where the parts go: the output, unless the format writes
	// them after what they count (then the spool).
	list
	enc      encoder
	sum      Summary
	nobjects int
	failing  int  // objects of the parts with findings not suppressed
	objects  list // into spool
	spool    spool
	errors   []finding.InputError
}

// list writes the elements of a list, or parts of a report, as they come.
type list struct {
	w io.Writer
	// trim is the length of the separator that starts every element's
	// encoding and that the first one written goes without.
	trim  int
	wrote bool
	err   error
}

// put writes encoded elements. After an error it writes nothing more.
func (l *list) put(data []byte) error {
	if l.err != nil || len(data) == 0 {
		return l.err
	}
	if !l.wrote {
		data, l.wrote = data[l.trim:], true
	}
	_, l.err = l.w.Write(data)
	return l.err
}

// NewStream writes the head of a report in format out to w and returns
// the stream its parts go to. ok is false when out cannot be written
// before the whole report is known.
func NewStream(out Output, w io.Writer, h Head) (s *Stream, ok bool, err error) {
	f, ok := out.(streamer)
	if !ok {
		return nil, false, nil
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	s = &Stream{h: h, enc: f.encoder(&h), bw: bw, list: list{w: bw}}
	s.objects = list{w: &s.spool, trim: 1}
	s.nobjects = len(h.Objects)
	err = encodeRuns(len(h.Objects), func(b []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			b = s.enc.object(b, &h.Objects[i])
		}
		return b
	}, s.objects.put)
	s.errors = append(s.errors, h.Errors...)
	s.sum.count(h.Findings)
	if err == nil {
		err = s.enc.head(s)
	}
	return s, true, err
}

// out is where the stream writes the report.
func (s *Stream) out() *bufio.Writer { return s.bw }

// writeWhole writes a whole report through a stream.
func writeWhole(out streamer, w io.Writer, r *Report) error {
	s, _, err := NewStream(out, w, Head{Version: r.Version, Config: r.Config, Checks: r.Checks, Objects: r.Objects, Findings: r.Findings, Errors: r.Errors})
	if err != nil {
		return err
	}
	return s.Close()
}

// Encode implements Sink.
func (s *Stream) Encode(p *Part, o Object, fs []finding.Finding) {
	p.sum.Objects++
	if slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.Suppressed == nil }) {
		p.failing++
	}
	p.sum.count(fs)
	p.data = s.enc.part(p.data, &o, fs)
	p.listed = s.enc.object(p.listed, &o)
}

// Write implements Sink.
func (s *Stream) Write(p *Part) error {
	s.nobjects += p.sum.Objects
	s.failing += p.failing
	s.errors = append(s.errors, p.Errors...)
	s.sum.add(&p.sum)
	if err := s.objects.put(p.listed); err != nil {
		s.err = err
	}
	return s.put(p.data)
}

// putFindings writes fs as parts encoded on all cores, a few runs at a
// time, in order.
func (s *Stream) putFindings(fs []finding.Finding) error {
	return encodeRuns(len(fs), func(b []byte, lo, hi int) []byte {
		return s.enc.part(b, nil, fs[lo:hi])
	}, s.put)
}

// Close writes the tail of the report and flushes it.
func (s *Stream) Close() error {
	defer s.spool.close()
	if s.err != nil {
		return s.err
	}
	if err := s.enc.tail(s); err != nil {
		return err
	}
	return s.out().Flush()
}

// Summary counts what the stream has written. It is complete once every
// part has been written.
func (s *Stream) Summary() Summary {
	sum := s.sum
	sum.Objects, sum.Errors = s.nobjects, len(s.errors)
	return sum
}

// encodeRuns encodes n items in runs of a few hundred, on all cores, and
// hands each run's bytes to put in order, a few runs at a time, so that
// memory stays bounded. encode appends items lo to hi-1 to b.
func encodeRuns(n int, encode func(b []byte, lo, hi int) []byte, put func([]byte) error) error {
	const run = 256
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]byte, workers)
	for start := 0; start < n; start += run * workers {
		var wg sync.WaitGroup
		for k := range workers {
			lo, hi := start+k*run, min(start+(k+1)*run, n)
			if lo >= hi {
				bufs[k] = bufs[k][:0]
				continue
			}
			wg.Go(func() { bufs[k] = encode(bufs[k][:0], lo, hi) })
		}
		wg.Wait()
		for k := range workers {
			if err := put(bufs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}
