package events

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unicode"
)

// Defaults for Options.
const (
	DefaultMaxEvents = 100_000
	DefaultMaxBytes  = 64 << 20
	// eventOverhead approximates an event's memory beyond its strings.
	eventOverhead = 96
	fileName      = "events.jsonl"
)

// Event is one stored event.
type Event struct {
	ID   int64  `json:"id"`
	When int64  `json:"when"` // microseconds since the epoch
	What string `json:"what"`
	Data string `json:"data"`
	Tags string `json:"tags"` // as posted (a list is joined with spaces)

	parsed []string // parse_tag_input(Tags): the names the event is tagged with
}

// Seconds is the event's time in whole seconds (rounded down), as
// graphite-web's epoch() reports it.
func (e *Event) Seconds() int64 { return floorDiv(e.When, 1e6) }

// TagList is the tag string split on whitespace (graphite-web's
// as_dict()["tags"]).
func (e *Event) TagList() []string { return pyFields(e.Tags) }

func (e *Event) size() int64 {
	n := int64(len(e.What)+len(e.Data)+len(e.Tags)) + eventOverhead
	for _, t := range e.parsed {
		n += int64(len(t)) + 16
	}
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Options configure a Store.
type Options struct {
	// Dir holds events.jsonl; empty keeps events in memory only.
	Dir string
	// MaxEvents bounds the number of events (default DefaultMaxEvents).
	MaxEvents int
	// MaxBytes bounds their accounted size (default DefaultMaxBytes).
	MaxBytes int64
	// ReadOnly loads Dir/events.jsonl, if there is one, and never writes
	// under Dir (a read-only node); Add then keeps events in memory only.
	ReadOnly bool
}

// Store holds events ordered by (when, id). It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	opts    Options
	events  []*Event // sorted by (When, ID)
	byID    map[int64]*Event
	tagUse  map[string]int // parsed tag name -> events carrying it
	bytes   int64
	nextID  int64
	f       *os.File
	lines   int // lines in the file
	dropped uint64
	// refused is why the file could not be written at Open (a read-only
	// or full volume): the events read are served, Add retries the file.
	refused error
}

// Open returns a store, loading Dir/events.jsonl when Dir is set (lines
// that do not parse are skipped).
func Open(o Options) (*Store, error) {
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	s := &Store{opts: o, byID: map[int64]*Event{}, tagUse: map[string]int{}, nextID: 1}
	if o.Dir == "" {
		return s, nil
	}
	if o.ReadOnly {
		if err := s.load(filepath.Join(o.Dir, fileName)); err != nil {
			return nil, err
		}
		s.trim()
		return s, nil
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil && !volumeRefused(err) {
		return nil, fmt.Errorf("creating events dir %q: %w", o.Dir, err)
	}
	if err := s.load(filepath.Join(o.Dir, fileName)); err != nil {
		return nil, err
	}
	s.trim()
	if err := s.rewrite(); err != nil {
		if !volumeRefused(err) {
			return nil, err
		}
		s.refused = err
	}
	return s, nil
}

// load reads the events of path, if it exists.
func (s *Store) load(path string) error {
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), MaxBodyBytes*2)
		for sc.Scan() {
			s.lines++
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.ID <= 0 || s.byID[e.ID] != nil {
				continue
			}
			s.insert(&e)
			s.nextID = max(s.nextID, e.ID+1)
		}
		err := sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("reading events file %q: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("opening events file %q: %w", path, err)
	}
	return nil
}

// volumeRefused reports a write the volume refused for now: it is
// read-only or full.
func volumeRefused(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// rewrite writes the current events to a fresh file and keeps it open
// for appending.
func (s *Store) rewrite() error {
	f, err := s.writeFile(filepath.Join(s.opts.Dir, fileName))
	if err != nil {
		return err
	}
	if s.f != nil {
		s.f.Close()
	}
	s.f = f
	s.lines = len(s.events)
	return nil
}

// SaveTo writes the events to dir/events.jsonl (dir is created), where a
// store opened on dir finds them: a checkpoint's copy.
func (s *Store) SaveTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating events dir %q: %w", dir, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f, err := s.writeFile(filepath.Join(dir, fileName))
	if err != nil {
		return err
	}
	return f.Close()
}

// writeFile writes the events to path through a synced temporary file and
// returns it open at its end. Caller holds mu.
func (s *Store) writeFile(path string) (*os.File, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("writing events file %q: %w", tmp, err)
	}
	w := bufio.NewWriter(f)
	for _, e := range s.events {
		b, _ := json.Marshal(e)
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing events file %q: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("syncing events file %q: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, fmt.Errorf("renaming events file %q: %w", tmp, err)
	}
	return f, nil
}

func less(a, b *Event) bool {
	if a.When != b.When {
		return a.When < b.When
	}
	return a.ID < b.ID
}

func (s *Store) insert(e *Event) {
	e.parsed = ParseTagInput(e.Tags)
	i := sort.Search(len(s.events), func(i int) bool { return less(e, s.events[i]) })
	s.events = slices.Insert(s.events, i, e)
	s.byID[e.ID] = e
	for _, t := range e.parsed {
		s.tagUse[t]++
	}
	s.bytes += e.size()
}

// trim drops the oldest events (by time) beyond the bounds.
func (s *Store) trim() {
	n := 0
	for len(s.events)-n > s.opts.MaxEvents || (s.bytes > s.opts.MaxBytes && len(s.events)-n > 0) {
		e := s.events[n]
		delete(s.byID, e.ID)
		for _, t := range e.parsed {
			if s.tagUse[t]--; s.tagUse[t] <= 0 {
				delete(s.tagUse, t)
			}
		}
		s.bytes -= e.size()
		s.dropped++
		n++
	}
	if n > 0 {
		s.events = slices.Delete(s.events, 0, n)
	}
}

// Add stores an event (When in microseconds) and returns its id.
func (s *Store) Add(when int64, what, data, tags string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused != nil {
		// Refused at Open: try the file again.
		if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
			return 0, fmt.Errorf("events file not writable: %w", err)
		}
		if err := s.rewrite(); err != nil {
			return 0, fmt.Errorf("events file not writable: %w", err)
		}
		s.refused = nil
	}
	e := &Event{ID: s.nextID, When: when, What: what, Data: data, Tags: tags}
	if s.f != nil {
		b, _ := json.Marshal(e)
		b = append(b, '\n')
		if _, err := s.f.Write(b); err != nil {
			return 0, fmt.Errorf("appending event: %w", err)
		}
		if err := s.f.Sync(); err != nil {
			return 0, fmt.Errorf("syncing events file: %w", err)
		}
		s.lines++
	}
	s.nextID++
	s.insert(e)
	s.trim()
	if s.f != nil && s.lines > 2*len(s.events)+1000 {
		if err := s.rewrite(); err != nil {
			return e.ID, err
		}
	}
	return e.ID, nil
}

// Get returns the event with id.
func (s *Store) Get(id int64) (Event, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.byID[id]
	if e == nil {
		return Event{}, false
	}
	return *e, true
}

// Len is the number of events held.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.events)
}

// Dropped is the number of events dropped to stay within the bounds.
func (s *Store) Dropped() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dropped
}

// Close closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Query selects events like graphite-web's events view: from <= when <=
// until (microseconds), and when HasTags, the tags with set operation Set
// ("union", "intersection" or anything else for all).
type Query struct {
	From, Until int64
	HasTags     bool
	Tags        []string // the tags parameter split on single spaces
	Set         string
}

// Find returns the matching events ordered by time (then id).
func (s *Store) Find(q Query) []Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var known []string // Tag.objects.filter(name__in=tags): unknown tags vanish
	if q.HasTags {
		for _, t := range q.Tags {
			if s.tagUse[t] > 0 && !slices.Contains(known, t) {
				known = append(known, t)
			}
		}
		if len(known) == 0 {
			return nil
		}
	}
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].When >= q.From })
	var out []Event
	for ; i < len(s.events) && s.events[i].When <= q.Until; i++ {
		e := s.events[i]
		if q.HasTags {
			if !matchTags(e.parsed, known, q.Set == "union") {
				continue
			}
			if q.Set == "intersection" {
				// graphite-web's workaround: every query tag (duplicates
				// counted) must be among the listed tags.
				list := e.TagList()
				common := 0
				seen := map[string]bool{}
				for _, t := range q.Tags {
					if !seen[t] && slices.Contains(list, t) {
						common++
					}
					seen[t] = true
				}
				if common != len(q.Tags) {
					continue
				}
			}
		}
		out = append(out, *e)
	}
	return out
}

func matchTags(parsed, known []string, any bool) bool {
	for _, t := range known {
		has := slices.Contains(parsed, t)
		if any && has {
			return true
		}
		if !any && !has {
			return false
		}
	}
	return !any
}

// EventTimes returns the times (whole seconds) of the events in
// [from, until] (seconds) carrying all of tags (graphite-web's with_all,
// unknown tags ignored, none known = no events), or of every event when
// tags is nil. It serves the events() render function.
func (s *Store) EventTimes(from, until int64, tags []string) []int64 {
	q := Query{From: from * 1e6, Until: until * 1e6}
	if tags != nil {
		q.HasTags, q.Tags = true, tags
	}
	evs := s.Find(q)
	out := make([]int64, len(evs))
	for i := range evs {
		out[i] = evs[i].Seconds()
	}
	return out
}

// MaxBodyBytes bounds one posted event (and one line of the file).
const MaxBodyBytes = 64 << 10

// isPySpace is Python's str.isspace for one rune.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// pyFields is Python's str.split() without arguments.
func pyFields(s string) []string {
	f := strings.FieldsFunc(s, isPySpace)
	if f == nil {
		return []string{}
	}
	return f
}

// splitStrip is django-tagging's split_strip.
func splitStrip(s, sep string) []string {
	var out []string
	for _, w := range strings.Split(s, sep) {
		if w = strings.TrimFunc(w, isPySpace); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// ParseTagInput is django-tagging's parse_tag_input: the sorted unique tag
// names of a tag string. Double quotes group words (and may contain
// commas); with an unquoted comma the rest splits on commas, else on
// spaces.
func ParseTagInput(in string) []string {
	if in == "" {
		return nil
	}
	var words []string
	if !strings.ContainsAny(in, `,"`) {
		words = splitStrip(in, " ")
	} else {
		var toSplit []string
		var buf []rune
		sawComma := false
		rs := []rune(in)
		i := 0
		openQuote := false
	loop:
		for i < len(rs) {
			c := rs[i]
			i++
			if c == '"' {
				if len(buf) > 0 {
					toSplit = append(toSplit, string(buf))
					buf = buf[:0]
				}
				openQuote = true
				for {
					if i >= len(rs) {
						break loop
					}
					c = rs[i]
					i++
					if c == '"' {
						break
					}
					buf = append(buf, c)
				}
				if len(buf) > 0 {
					if w := strings.TrimFunc(string(buf), isPySpace); w != "" {
						words = append(words, w)
					}
					buf = buf[:0]
				}
				openQuote = false
			} else {
				if c == ',' {
					sawComma = true
				}
				buf = append(buf, c)
			}
		}
		if len(buf) > 0 {
			if openQuote && slices.Contains(buf, ',') {
				sawComma = true
			}
			toSplit = append(toSplit, string(buf))
		}
		sep := " "
		if sawComma {
			sep = ","
		}
		for _, chunk := range toSplit {
			words = append(words, splitStrip(chunk, sep)...)
		}
	}
	slices.Sort(words)
	return slices.Compact(words)
}
