package index

import (
	"strings"
	"sync"
)

// Tagged series (carbon's "name;tag=value;..." form) are not part of the
// dot-separated tree: find does not list them and globs do not match them.
// The index keeps them in a set of their own so that every source of names
// (the write buffer, a backend's startup scan or load) feeds one place, and
// the tag index that seriesByTag and /tags use subscribes with OnTagged.
type taggedSet struct {
	mu    sync.Mutex
	names map[string]struct{}
	hooks []func(name string)
}

// IsTagged reports whether name is a tagged series name.
func IsTagged(name string) bool { return strings.IndexByte(name, ';') > 0 }

// addTagged records a tagged name and tells the subscribers if it is new.
func (x *Index) addTagged(name string) bool {
	if len(name) > MaxNameLen {
		return false
	}
	t := &x.tagged
	t.mu.Lock()
	if _, ok := t.names[name]; ok {
		t.mu.Unlock()
		return false
	}
	if t.names == nil {
		t.names = make(map[string]struct{})
	}
	name = strings.Clone(name)
	t.names[name] = struct{}{}
	hooks := t.hooks
	t.mu.Unlock()
	for _, h := range hooks {
		h(name)
	}
	return true
}

func (x *Index) hasTagged(name string) bool {
	t := &x.tagged
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.names[name]
	return ok
}

// OnTagged calls fn for every tagged name already indexed and then for each
// one added later (from any goroutine; fn must be safe for concurrent use and
// must not call back into the index's tagged methods).
func (x *Index) OnTagged(fn func(name string)) {
	t := &x.tagged
	t.mu.Lock()
	existing := make([]string, 0, len(t.names))
	for n := range t.names {
		existing = append(existing, n)
	}
	t.hooks = append(t.hooks, fn)
	t.mu.Unlock()
	for _, n := range existing {
		fn(n)
	}
}

// TaggedLen returns the number of tagged names.
func (x *Index) TaggedLen() int {
	t := &x.tagged
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.names)
}

// WalkTagged calls fn for every tagged name until fn returns false.
func (x *Index) WalkTagged(fn func(name string) bool) {
	t := &x.tagged
	t.mu.Lock()
	names := make([]string, 0, len(t.names))
	for n := range t.names {
		names = append(names, n)
	}
	t.mu.Unlock()
	for _, n := range names {
		if !fn(n) {
			return
		}
	}
}

func (x *Index) deleteTagged(name string) bool {
	t := &x.tagged
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.names[name]; !ok {
		return false
	}
	delete(t.names, name)
	return true
}
