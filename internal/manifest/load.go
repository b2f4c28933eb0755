package manifest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	pathpkg "path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kubeguard/kubeguard/internal/finding"
	"github.com/kubeguard/kubeguard/internal/object"
)

// Limits on input size. Alias expansion and nesting are bounded where
// documents are converted (package object).
const (
	MaxFileSize     = 256 << 20
	MaxDocumentSize = 32 << 20
)

// StdinName is how standard input is named in locations.
const StdinName = finding.StdinName

// Source reads the inputs named on a command line.
type Source struct {
	// Paths are files, directories (searched recursively for .yaml, .yml
	// and .json) and "-" for standard input.
	Paths []string
	Stdin io.Reader
	// Exclude are globs of paths a directory walk skips: each is matched
	// against a path relative to the directory named in Paths and against
	// its last element (vendor, charts/*/templates, *.test.yaml). A
	// directory matched is skipped whole. Paths named explicitly are read.
	Exclude []string
	// Unmatched are the globs of Exclude that matched no path of a walk:
	// a mistyped exclusion excludes nothing, which the user must hear of.
	// Set by Files.
	Unmatched []string
	// Charts are the Helm chart directories (a Chart.yaml beside a
	// templates directory) the walk skipped: their templates are not
	// manifests until rendered. Set by Files.
	Charts []string

	mu    sync.Mutex // guards stdin
	stdin []byte     // standard input, read once and kept for a second pass
	files []string
	// walkErrs are the errors of expanding Paths, kept with files so that
	// every caller of Files sees them, not only the first.
	walkErrs []finding.InputError

	// held are contents Collect read, by file index, kept for Stream so
	// that the main pass does not read them again; heldBytes is their
	// size, bounded by MaxHeld. Stream drops each once it has split it.
	held      [][]byte
	heldBytes atomic.Int64
	maxHeld   int64 // MaxHeld when zero; tests set it lower
	// splitMin is the size from which a List is cut into its items
	// before parsing: SplitMin when zero; tests set it lower.
	splitMin int
}

// MaxHeld bounds the file contents Collect keeps for the main pass. Reading
// a file costs system calls and a copy, so an input that fits is read once;
// the files past the bound are read again by Stream. Held contents are most
// of what a streamed scan keeps live, and the collector lets the heap grow
// to a few times what is live, so the bound is what keeps a scan's peak
// memory from growing with its input: about 100 MB past it, against 130 MB
// at 64 MiB for a 26 MB input, for about the same CPU time (BENCHMARKS.md).
const MaxHeld = 16 << 20

// Files expands Paths into the list of files to read, in a stable order.
// A file reached more than once (a path given twice, a directory and a
// file in it, ./a and a) is read once, where it is first reached: its
// objects are not checked and reported twice. Paths that cannot be walked
// become input errors.
func (s *Source) Files() ([]string, []finding.InputError) {
	if s.files != nil {
		return s.files, s.walkErrs
	}
	var errs []finding.InputError
	files := []string{}
	seen := map[string]bool{}
	add := func(paths ...string) {
		for _, p := range paths {
			key := p
			if p != StdinName {
				if abs, err := filepath.Abs(p); err == nil {
					key = abs
				}
			}
			if !seen[key] {
				seen[key] = true
				files = append(files, p)
			}
		}
	}
	matched, walked := map[string]bool{}, false
	for _, p := range s.Paths {
		if p == "-" {
			add(StdinName)
			continue
		}
		if chart, ok := inChartTemplates(p); ok {
			// A chart's templates named directly are no more manifests
			// than when the walk meets them: say so, as for a chart.
			if !slices.Contains(s.Charts, chart) {
				s.Charts = append(s.Charts, chart)
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, inputError(p, err))
			continue
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		walked = true
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, inputError(path, err))
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				// .git, .github, .kubeguard.yaml, .gitlab-ci.yml: tooling,
				// not manifests. Named explicitly, they are still read.
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() && isChart(path) {
				s.Charts = append(s.Charts, path)
				return filepath.SkipDir
			}
			if path != p && excluded(s.Exclude, p, path, matched) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			if !d.Type().IsRegular() {
				// A named pipe hangs the read, a link to /dev/zero reads
				// the size limit each time, and a pull request can commit
				// either: only regular files, or links to them, are read.
				info, err := os.Stat(path)
				if err != nil {
					// A dangling link: reading it says so, in its place.
					found = append(found, path)
					return nil
				}
				if !info.Mode().IsRegular() {
					errs = append(errs, finding.InputError{Location: finding.Location{File: path},
						Message: "skipped: " + irregular(d.Type(), info.Mode()) + ", not a regular file"})
					return nil
				}
			}
			found = append(found, path)
			return nil
		})
		if err != nil {
			errs = append(errs, inputError(p, err))
		}
		slices.Sort(found)
		add(found...)
	}
	if walked {
		for _, g := range s.Exclude {
			if !matched[g] {
				s.Unmatched = append(s.Unmatched, g)
			}
		}
	}
	s.files, s.walkErrs = files, errs
	return files, errs
}

// inChartTemplates reports whether path is a chart's templates directory
// or under it, and names the chart.
func inChartTemplates(path string) (string, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	for dir := abs; ; {
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		if filepath.Base(dir) == "templates" && isChart(parent) {
			rel, err := filepath.Rel(abs, parent)
			if err != nil {
				return parent, true
			}
			return filepath.Join(path, rel), true
		}
		dir = parent
	}
}

// isChart reports whether dir is a Helm chart: a Chart.yaml beside a
// templates directory.
func isChart(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "templates"))
	return err == nil && st.IsDir()
}

// excluded reports whether path, met walking root, matches a glob of
// globs, relative to root or by its last element.
// excluded reports whether a glob matches path, found walking root: its
// path relative to root, its path as the walk wrote it (root included, as
// the user typed root), or its last element. It marks the globs that
// match in matched.
func excluded(globs []string, root, path string, matched map[string]bool) bool {
	if len(globs) == 0 {
		return false
	}
	rel, err := filepath.Rel(root, path)
	if err != nil {
		rel = path
	}
	rel, full, base := filepath.ToSlash(rel), filepath.ToSlash(filepath.Clean(path)), filepath.Base(path)
	for _, g := range globs {
		pat := pathpkg.Clean(strings.TrimSuffix(filepath.ToSlash(g), "/"))
		for _, name := range []string{rel, full, base} {
			if ok, _ := pathpkg.Match(pat, name); ok {
				matched[g] = true
				return true
			}
		}
	}
	return false
}

// CheckExclude refuses a glob path.Match cannot use: a pattern that is
// malformed would match nothing, silently.
func CheckExclude(globs []string) error {
	for _, g := range globs {
		if _, err := pathpkg.Match(filepath.ToSlash(g), ""); err != nil {
			return fmt.Errorf("invalid exclude pattern %q: %w", g, err)
		}
	}
	return nil
}

// irregular names what a walked entry is instead of a regular file.
func irregular(entry, target fs.FileMode) string {
	what := "a special file"
	switch {
	case target&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case target&fs.ModeCharDevice != 0:
		what = "a character device"
	case target&fs.ModeDevice != 0:
		what = "a device"
	case target&fs.ModeSocket != 0:
		what = "a socket"
	case target.IsDir():
		what = "a directory"
	}
	if entry&fs.ModeSymlink != 0 {
		return "a symbolic link to " + what
	}
	return what
}

func inputError(path string, err error) finding.InputError {
	msg := err.Error()
	if pe, ok := err.(*fs.PathError); ok {
		msg = pe.Op + ": " + pe.Err.Error()
	}
	return finding.InputError{Location: finding.Location{File: path}, Message: msg}
}

// ReadFile reads one file of the source, standard input included. It is
// safe for concurrent use.
func (s *Source) ReadFile(name string) ([]byte, error) {
	if name == StdinName {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stdin == nil {
			if s.Stdin == nil {
				return nil, fmt.Errorf("no standard input")
			}
			b, err := io.ReadAll(io.LimitReader(s.Stdin, MaxFileSize+1))
			if err != nil {
				return nil, err
			}
			if b == nil {
				b = []byte{}
			}
			s.stdin = b
		}
		if len(s.stdin) > MaxFileSize {
			return nil, fmt.Errorf("input is over the limit of %d bytes", MaxFileSize)
		}
		return s.stdin, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One buffer of the file's size, not a growing one; the size is only
	// a hint (the file may change, or be a pipe), so the limit is kept
	// while reading.
	size := int64(0)
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	if size > MaxFileSize {
		return nil, fmt.Errorf("file is over the limit of %d bytes", MaxFileSize)
	}
	b := make([]byte, 0, size+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):min(cap(b), MaxFileSize+1)])
		b = b[:len(b)+n]
		if len(b) > MaxFileSize {
			return nil, fmt.Errorf("file is over the limit of %d bytes", MaxFileSize)
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Unit is what one document of the input yields. Every file yields at
// least one: a file that cannot be read, or holds no document, yields one
// with no objects, its error if any.
type Unit struct {
	File    string
	FileSeq int // position of the file in the source's file list
	DocSeq  int // position of the document in its file
	// Part is the position of the unit in its document: a List's items
	// come in parts of at most PartSize objects, so that the findings of
	// a List of 100,000 pods are not all held at once. More says that
	// parts of the document follow.
	Part    int
	More    bool
	Last    bool // whether it is the file's last (and the document's last part)
	Objects []*object.Object
	Errors  []finding.InputError
}

// PartSize is the most objects one Unit holds.
const PartSize = 256

// Stream reads every file, splits it into documents and hands each
// document's objects to fn on one of workers goroutines (all cores when
// workers <= 0). A few files are read at a time, by as many goroutines as
// workers, so that system calls overlap with parsing; documents are dropped
// once fn returns, so memory does not grow with the size of the input:
// fn must not keep the objects, or any node of their trees, once it
// returns (strings and values taken from them it may keep), as the next
// document's tree is cut from the same memory.
// Errors of files that cannot be read come in their units; Stream returns
// those of expanding the paths (Files).
func (s *Source) Stream(ctx context.Context, workers int, fn func(Unit)) []finding.InputError {
	files, errs := s.Files()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		unit  Unit
		doc   Document
		parse bool
	}
	jobs := make(chan job, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var a Arena
			for j := range jobs {
				if !j.parse {
					fn(j.unit)
					continue
				}
				// A document's objects in parts: what fn makes of each
				// part (its findings) can go before the next, and a
				// large List's items are parsed a part at a time.
				part := 0
				eachPart(&a, j.unit.File, j.doc, s.listMin(), func(objs []*object.Object, errs []finding.InputError, more bool) {
					u := j.unit
					u.Part, u.Objects, u.Errors, u.More = part, objs, errs, more
					u.Last = j.unit.Last && !more
					fn(u)
					part++
				})
				a.Reset()
			}
		})
	}
	s.readAll(ctx, files, workers, func(i int, data []byte, err error) {
		if err != nil {
			jobs <- job{unit: Unit{File: files[i], FileSeq: i, Last: true, Errors: []finding.InputError{inputError(files[i], err)}}}
			return
		}
		// Each document is handed out once the next is found, which tells
		// whether it is the file's last.
		held := job{unit: Unit{File: files[i], FileSeq: i, DocSeq: -1}}
		for d := range Documents(data) {
			if held.parse {
				jobs <- held
			}
			held = job{unit: Unit{File: files[i], FileSeq: i, DocSeq: held.unit.DocSeq + 1}, doc: d, parse: true}
		}
		held.unit.DocSeq = max(held.unit.DocSeq, 0)
		held.unit.Last = true
		jobs <- held
	})
	close(jobs)
	wg.Wait()
	return errs
}

// Ordered is Stream with the results in input order: work runs on the
// workers, each unit's result goes to use on the caller's goroutine, a
// unit's as soon as those of the units before it are in. The unit use gets
// has no objects (their trees are gone by then); the result must not hold
// them either.
func Ordered[T any](ctx context.Context, s *Source, workers int, work func(Unit) T, use func(Unit, T)) []finding.InputError {
	type done struct {
		unit   Unit
		result T
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make(chan done, workers*4)
	var errs []finding.InputError
	go func() {
		defer close(results)
		errs = s.Stream(ctx, workers, func(u Unit) {
			r := work(u)
			u.Objects = nil
			results <- done{u, r}
		})
	}()
	type seq struct{ file, doc, part int }
	var (
		next    seq
		pending = map[seq]done{}
	)
	for d := range results {
		pending[seq{d.unit.FileSeq, d.unit.DocSeq, d.unit.Part}] = d
		for {
			d, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			use(d.unit, d.result)
			switch {
			case d.unit.More:
				next.part++
			case d.unit.Last:
				next = seq{next.file + 1, 0, 0}
			default:
				next = seq{next.file, next.doc + 1, 0}
			}
		}
	}
	return errs
}

// read returns the contents of file i of files: the copy Collect held, once,
// or what reading it gives.
func (s *Source) read(files []string, i int) ([]byte, error) {
	if i < len(s.held) && s.held[i] != nil {
		data := s.held[i]
		s.held[i] = nil
		return data, nil
	}
	return s.ReadFile(files[i])
}

// hold keeps the contents of file i for the main pass, unless that would
// take the held contents over MaxHeld. Standard input is kept by ReadFile
// already.
func (s *Source) hold(files []string, i int, data []byte) {
	limit := s.maxHeld
	if limit == 0 {
		limit = MaxHeld
	}
	if files[i] == StdinName {
		return
	}
	for {
		n := s.heldBytes.Load()
		if n+int64(len(data)) > limit {
			return
		}
		if s.heldBytes.CompareAndSwap(n, n+int64(len(data))) {
			break
		}
	}
	s.held[i] = data
}

// readAll reads files on up to n goroutines and calls fn with each file's
// index and contents, concurrently. It stops handing out files when ctx is
// done.
func (s *Source) readAll(ctx context.Context, files []string, n int, fn func(int, []byte, error)) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, len(files)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				data, err := s.read(files, i)
				fn(i, data, err)
			}
		})
	}
	wg.Wait()
}

// Collect reads only the objects of the given kinds, for checks that need
// to see across objects (a Namespace's labels, say) before the main pass.
// Documents that cannot hold such a kind are skipped without parsing. The
// objects come in input order, so that of two objects with the same name
// the later one wins, as it would when applied. The contents it reads are
// kept, up to MaxHeld bytes, for the next Stream.
func (s *Source) Collect(kinds []string) []*object.Object {
	if len(kinds) == 0 {
		return nil
	}
	files, _ := s.Files()
	found := make([][]*object.Object, len(files))
	s.held = make([][]byte, len(files))
	s.heldBytes.Store(0)
	s.readAll(context.Background(), files, runtime.GOMAXPROCS(0), func(i int, data []byte, err error) {
		if err != nil {
			return
		}
		s.hold(files, i, data)
		if !sniffKind(data, kinds) {
			return
		}
		for _, d := range Split(data) {
			if !sniffKind(d.Data, kinds) {
				continue
			}
			eachPart(nil, files[i], d, s.listMin(), func(objs []*object.Object, _ []finding.InputError, _ bool) {
				for _, o := range objs {
					if slices.Contains(kinds, o.Ref.Kind) {
						found[i] = append(found[i], o)
					}
				}
			})
		}
	})
	var out []*object.Object
	for _, objs := range found {
		out = append(out, objs...)
	}
	return out
}

// Mentions reports whether the text of a document holds one of words as a
// word (not part of a longer name), as Collect looks for kinds.
func Mentions(doc []byte, words ...string) bool { return sniffKind(doc, words) }

// Visit parses every document want says yes to (by its text, say with
// Mentions(doc, "containers") for pod templates) and hands each of its
// objects to fn, concurrently and in no order, keeping none: what fn keeps
// of them is its memory. As with Stream, fn must not keep the objects or
// any node of their trees once it returns, and a large List is parsed a
// part at a time. The contents Collect held stay held for Stream;
// the others are read again. Errors are left to the main pass, which
// reads the same documents.
func (s *Source) Visit(want func(doc []byte) bool, fn func(*object.Object)) {
	files, _ := s.Files()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Go(func() {
			var a Arena
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				var data []byte
				if i < len(s.held) {
					data = s.held[i]
				}
				if data == nil {
					var err error
					if data, err = s.ReadFile(files[i]); err != nil {
						continue
					}
				}
				for _, d := range Split(data) {
					if !want(d.Data) {
						continue
					}
					// A large List a part at a time, as Stream reads it.
					eachPart(&a, files[i], d, s.listMin(), func(objs []*object.Object, _ []finding.InputError, _ bool) {
						for _, o := range objs {
							fn(o)
						}
					})
					a.Reset()
				}
			}
		})
	}
	wg.Wait()
}

// listMin is the size from which a List is cut into its items.
func (s *Source) listMin() int {
	if s.splitMin == 0 {
		return SplitMin
	}
	return s.splitMin
}
