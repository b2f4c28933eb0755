package report

import (
	"bufio"
	"io"
	"os"
)

// spoolMemory is how much a spool keeps in memory before it moves to a
// temporary file.
const spoolMemory = 4 << 20

// spool keeps what is written to it for one later copy: in memory up to
// spoolMemory bytes, then in a temporary file, so that a report's list of
// objects, which comes after its findings, does not grow the heap with the
// input. When no temporary file can be made, it stays in memory.
type spool struct {
	limit   int // spoolMemory when zero; tests set it lower
	mem     []byte
	file    *os.File
	w       *bufio.Writer // to file
	removed bool          // whether file's name is gone already
}

func (s *spool) Write(b []byte) (int, error) {
	limit := s.limit
	if limit == 0 {
		limit = spoolMemory
	}
	if s.file == nil && len(s.mem)+len(b) > limit {
		if f, err := os.CreateTemp("", "kubeguard-spool-*"); err == nil {
			// Unlinked at once where the system allows it, so that
			// nothing is left behind whatever becomes of the process.
			s.file, s.removed = f, os.Remove(f.Name()) == nil
			s.w = bufio.NewWriterSize(f, 1<<20)
		}
	}
	if s.file == nil {
		s.mem = append(s.mem, b...)
		return len(b), nil
	}
	return s.w.Write(b)
}

// copyTo writes everything the spool holds to w.
func (s *spool) copyTo(w io.Writer) error {
	if _, err := w.Write(s.mem); err != nil || s.file == nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.file)
	return err
}

// close drops the temporary file, if there is one.
func (s *spool) close() {
	if s.file == nil {
		return
	}
	s.file.Close()
	if !s.removed {
		os.Remove(s.file.Name())
	}
	s.file = nil
}
