package main

import (
	"fmt"

	"github.com/plumbago/plumbago/query"
	"github.com/plumbago/plumbago/storage/tagged"
)

// Tagged names registered through /tags/tagSeries and /tags/tagMultiSeries
// persist across restarts: the tag database the API writes to records them
// in the backend (pebble: 'T' keys; whisper: _tagged/.registered), and the
// server loads them into the index at start. /tags/delSeries and series
// deletes forget them.

// tagRegistry is a backend that keeps registered tagged names.
type tagRegistry interface {
	RegisterTagged(name string) error
	UnregisterTagged(name string) error
	RegisteredTagged() ([]string, error)
}

// registeredTags is the API's tag database: the index's tag index, with
// registrations and deletions recorded in the backend.
type registeredTags struct {
	*tagged.TagIndex
	reg tagRegistry
}

func (r registeredTags) AddInOrder(name []byte, order []string) (bool, error) {
	added, err := r.TagIndex.AddInOrder(name, order)
	if err != nil {
		return added, err
	}
	if err := r.reg.RegisterTagged(string(name)); err != nil {
		return added, fmt.Errorf("recording the tagged series: %w", err)
	}
	return added, nil
}

func (r registeredTags) Delete(name string) bool {
	r.reg.UnregisterTagged(name) // a failure leaves it registered: it comes back at restart
	return r.TagIndex.Delete(name)
}

// loadRegisteredTags adds the backend's registered tagged names to the
// index.
func loadRegisteredTags(s *server) error {
	reg, ok := s.store.(tagRegistry)
	if !ok {
		return nil
	}
	names, err := reg.RegisteredTagged()
	if err != nil {
		return fmt.Errorf("loading tagged series registered through the API: %w", err)
	}
	for _, n := range names {
		s.index.Add(n)
	}
	if len(names) > 0 {
		s.log.Info("loaded tagged series registered through the API", "series", len(names))
	}
	return nil
}

// tagDB is the tag database the API gets.
func tagDB(s *server) query.TagFinder {
	if reg, ok := s.store.(tagRegistry); ok {
		return registeredTags{TagIndex: s.index.Tags(), reg: reg}
	}
	return s.index.Tags()
}
