package whisper

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Tagged names registered through the API (/tags/tagSeries and
// /tags/tagMultiSeries) without data have no file, so the startup scan
// cannot find them. They are kept in <Dir>/_tagged/.registered, a log of
// "+name" and "-name" lines (fsynced per change), folded and rewritten
// compactly when read at start. The scan skips the file (a dotted name
// that is not a .wsp).

const tagRegFile = ".registered"

type tagRegistry struct {
	mu     sync.Mutex
	loaded bool
	set    map[string]struct{}
}

func (s *Store) tagRegPath() string { return filepath.Join(s.dir, taggedDir, tagRegFile) }

// loadTagReg reads the log once. Caller holds s.tagReg.mu.
func (s *Store) loadTagReg() error {
	r := &s.tagReg
	if r.loaded {
		return nil
	}
	r.set = map[string]struct{}{}
	f, err := os.Open(s.tagRegPath())
	if errors.Is(err, os.ErrNotExist) {
		r.loaded = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading registered tagged names: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxNameLen+2)
	lines := 0
	for sc.Scan() {
		l := sc.Text()
		lines++
		if len(l) < 2 {
			continue // a torn last line
		}
		switch l[0] {
		case '+':
			r.set[l[1:]] = struct{}{}
		case '-':
			delete(r.set, l[1:])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading registered tagged names: %w", err)
	}
	r.loaded = true
	if lines > len(r.set) {
		return s.rewriteTagReg()
	}
	return nil
}

// rewriteTagReg replaces the log by one "+name" line per registered name.
func (s *Store) rewriteTagReg() error {
	names := make([]string, 0, len(s.tagReg.set))
	for n := range s.tagReg.set {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("+" + n + "\n")
	}
	tmp := s.tagRegPath() + ".tmp"
	if err := writeSynced(tmp, []byte(b.String()), os.O_CREATE|os.O_TRUNC|os.O_WRONLY); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.tagRegPath()); err != nil {
		return fmt.Errorf("rewriting registered tagged names: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte, flags int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RegisterTagged records a registered tagged name.
func (s *Store) RegisterTagged(name string) error {
	if strings.ContainsAny(name, "\n\x00") {
		return fmt.Errorf("registering tagged name %q: %w", name, ErrInvalidName)
	}
	s.tagReg.mu.Lock()
	defer s.tagReg.mu.Unlock()
	if err := s.loadTagReg(); err != nil {
		return err
	}
	if _, ok := s.tagReg.set[name]; ok {
		return nil
	}
	if err := writeSynced(s.tagRegPath(), []byte("+"+name+"\n"), os.O_CREATE|os.O_APPEND|os.O_WRONLY); err != nil {
		return fmt.Errorf("registering tagged name %q: %w", name, err)
	}
	s.tagReg.set[name] = struct{}{}
	return nil
}

// UnregisterTagged forgets a registered tagged name (no error if it was not
// registered).
func (s *Store) UnregisterTagged(name string) error {
	s.tagReg.mu.Lock()
	defer s.tagReg.mu.Unlock()
	if err := s.loadTagReg(); err != nil {
		return err
	}
	if _, ok := s.tagReg.set[name]; !ok {
		return nil
	}
	if err := writeSynced(s.tagRegPath(), []byte("-"+name+"\n"), os.O_CREATE|os.O_APPEND|os.O_WRONLY); err != nil {
		return fmt.Errorf("unregistering tagged name %q: %w", name, err)
	}
	delete(s.tagReg.set, name)
	return nil
}

// RegisteredTagged returns the registered tagged names, sorted.
func (s *Store) RegisteredTagged() ([]string, error) {
	s.tagReg.mu.Lock()
	defer s.tagReg.mu.Unlock()
	if err := s.loadTagReg(); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(s.tagReg.set))
	for n := range s.tagReg.set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
