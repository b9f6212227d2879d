package index

import (
	"strings"
	"unsafe"

	"github.com/plumbago/plumbago/storage/tagged"
)

// Tagged series (carbon's "name;tag=value;..." form) are not part of the
// dot-separated tree: find does not list them and globs do not match them.
// They go to the index's tag index (storage/tagged), the one index of tagged
// names: every source of names (the write buffer, a backend's startup scan
// or load) feeds it through Add, and seriesByTag and /tags read it through
// Tags.

// IsTagged reports whether name is a tagged series name.
func IsTagged(name string) bool { return strings.IndexByte(name, ';') > 0 }

// Tags returns the index of tagged names.
func (x *Index) Tags() *tagged.TagIndex { return x.tags }

// TaggedLen returns the number of tagged names.
func (x *Index) TaggedLen() int { return x.tags.Len() }

// addTagged records a tagged name and reports whether it is new. Names the
// tag index cannot parse (bad tags) are not recorded.
func (x *Index) addTagged(name string) bool {
	if len(name) > MaxNameLen {
		return false
	}
	added, err := x.tags.Add(stringBytes(name))
	return err == nil && added
}

func (x *Index) hasTagged(name string) bool { return x.tags.Has(stringBytes(name)) }

func (x *Index) deleteTagged(name string) bool { return x.tags.Delete(name) }

// stringBytes views s as bytes for a call that does not retain or modify
// them (the tag index copies what it stores).
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// FindTagged returns the sorted tagged names matching every seriesByTag
// expression (see tagged.TagIndex.FindSeries).
func (x *Index) FindTagged(exprs []string) ([]string, error) { return x.tags.FindSeries(exprs) }
