package seriescopy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// The state log: a header line naming the job, then one line per series
// copied, each a Go-quoted string (names may hold any byte). Lines are only
// appended, and the file is fsynced after each batch's names; a line the
// kill cut short is dropped when the log is opened again.

const stateMagic = "plumbago copy state v1 "

// MaxStateLine bounds one line of the state log (a quoted name, or the
// header): longer lines make the log invalid.
const MaxStateLine = 64 << 10

// ErrOtherJob is returned by OpenState for a log written by a copy with
// another source, destination or selection.
var ErrOtherJob = errors.New("the state file belongs to another copy")

// ErrBadState is wrapped by the errors of a state log that cannot be read.
var ErrBadState = errors.New("invalid copy state file")

// State is a copy's resume log.
type State struct {
	path string
	f    *os.File
	done map[string]struct{}
	buf  []byte
}

// OpenState opens (creating it if missing) the state log at path for job,
// a description of the copy that must be the same on every run.
func OpenState(path, job string) (*State, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening copy state: %w", err)
	}
	s := &State{path: path, f: f, done: map[string]struct{}{}}
	if err := s.load(job); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *State) load(job string) error {
	gotJob, names, good, err := ParseState(bufio.NewReader(s.f))
	if err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	if good == 0 {
		// New (or cut before its header was whole): start it.
		if err := s.f.Truncate(0); err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		hdr := append([]byte(stateMagic), strconv.Quote(job)...)
		if _, err := s.f.WriteAt(append(hdr, '\n'), 0); err != nil {
			return fmt.Errorf("writing %s: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", s.path, err)
		}
		_, err := s.f.Seek(0, io.SeekEnd)
		return err
	}
	if gotJob != job {
		return fmt.Errorf("%s: %w (%s), not this one (%s): remove it or give another state file", s.path, ErrOtherJob, gotJob, job)
	}
	for _, n := range names {
		s.done[n] = struct{}{}
	}
	// Drop a line a kill cut short, then append after the last whole one.
	if err := s.f.Truncate(good); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	_, err = s.f.Seek(good, io.SeekStart)
	return err
}

// ParseState reads a state log: the job of its header, the names recorded,
// and the length of its whole lines (0 when not even the header is whole).
// A last line without its newline is left out. It returns an error wrapping
// ErrBadState for anything else that is not a valid log.
func ParseState(r io.Reader) (job string, names []string, good int64, err error) {
	br := bufio.NewReaderSize(r, 4096)
	var line []byte
	for n := 0; ; n++ {
		line = line[:0]
		complete := false
		for {
			frag, err := br.ReadSlice('\n')
			line = append(line, frag...)
			if len(line) > MaxStateLine+1 {
				return "", nil, 0, fmt.Errorf("%w: line %d longer than %d bytes", ErrBadState, n+1, MaxStateLine)
			}
			if err == nil {
				complete = true
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				break
			}
			return "", nil, 0, err
		}
		if !complete {
			if n == 0 && len(line) > 0 && !bytes.HasPrefix([]byte(stateMagic), line) && !bytes.HasPrefix(line, []byte(stateMagic)) {
				return "", nil, 0, fmt.Errorf("%w: no header", ErrBadState)
			}
			return job, names, good, nil
		}
		body := line[:len(line)-1]
		if n == 0 {
			q, ok := bytes.CutPrefix(body, []byte(stateMagic))
			if !ok {
				return "", nil, 0, fmt.Errorf("%w: no header", ErrBadState)
			}
			if job, err = strconv.Unquote(string(q)); err != nil {
				return "", nil, 0, fmt.Errorf("%w: header: %v", ErrBadState, err)
			}
		} else {
			name, err := strconv.Unquote(string(body))
			if err != nil || name == "" {
				return "", nil, 0, fmt.Errorf("%w: line %d is not a quoted name", ErrBadState, n+1)
			}
			names = append(names, name)
		}
		good += int64(len(line))
	}
}

// Done reports whether name was copied by an earlier run (names Record
// adds are not looked up again: each name is copied once a run). Done and
// Record may be called concurrently.
func (s *State) Done(name string) bool {
	_, ok := s.done[name]
	return ok
}

// Len returns the number of series earlier runs recorded.
func (s *State) Len() int { return len(s.done) }

// Record appends names and fsyncs the log.
func (s *State) Record(names []string) error {
	s.buf = s.buf[:0]
	for _, n := range names {
		s.buf = strconv.AppendQuote(s.buf, n)
		s.buf = append(s.buf, '\n')
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("writing %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", s.path, err)
	}
	return nil
}

// Close closes the log.
func (s *State) Close() error { return s.f.Close() }
