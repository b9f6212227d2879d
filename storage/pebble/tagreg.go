package pebble

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Tagged names registered through the API (/tags/tagSeries and
// /tags/tagMultiSeries) without data are kept under 'T' name, so they
// survive a restart (and a checkpoint) like stored series.

// RegisterTagged records a registered tagged name (synced).
func (s *Store) RegisterTagged(name string) error {
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.db.Set(tagRegKey(name), nil, pebble.Sync); err != nil {
		return fmt.Errorf("registering tagged name %q: %w", name, err)
	}
	s.noteWrite(len(tagRegKey(name)))
	return nil
}

// UnregisterTagged forgets a registered tagged name (no error if it was not
// registered).
func (s *Store) UnregisterTagged(name string) error {
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.db.Delete(tagRegKey(name), pebble.Sync); err != nil {
		return fmt.Errorf("unregistering tagged name %q: %w", name, err)
	}
	s.noteWrite(len(tagRegKey(name)))
	return nil
}

// RegisteredTagged returns the registered tagged names, sorted.
func (s *Store) RegisteredTagged() ([]string, error) {
	if !s.readDB() {
		return nil, ErrClosed
	}
	defer s.doneDB()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixTagReg}, UpperBound: prefixEnd(prefixTagReg)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []string
	for it.First(); it.Valid(); it.Next() {
		out = append(out, string(bytes.Clone(it.Key()[1:])))
	}
	return out, it.Error()
}

func tagRegKey(name string) []byte { return append([]byte{prefixTagReg}, name...) }
