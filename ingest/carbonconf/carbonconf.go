package carbonconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Bounds on hostile input.
const (
	maxFileBytes   = 1 << 20 // a carbon.conf is a few tens of KiB
	maxLineBytes   = 64 << 10
	maxValueBytes  = 64 << 10 // after interpolation
	maxInterpDepth = 10       // Python's MAX_INTERPOLATION_DEPTH
	maxInterpRefs  = 10000    // %(name)s expansions for one value
)

// Setting is one key of a section.
type Setting struct {
	Key     string // upper-cased, as carbon's Settings.readFrom keys it
	Value   string // interpolated, continuation lines joined with "\n"
	Raw     string // as written, before interpolation
	Section string // the section it was read from ("DEFAULT" for defaults)
	File    string
	Line    int
}

// Where returns "file:line" for messages.
func (s Setting) Where() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Section is one [name] of the file, its keys in file order.
type Section struct {
	Name     string
	Line     int
	Settings []Setting
	index    map[string]int // lower-cased key -> Settings index
	// defaults are [DEFAULT]'s keys this section does not set, each
	// interpolated in this section, as configparser's items(section) gives
	// them.
	defaults []Setting
}

// File is a parsed carbon.conf.
type File struct {
	Name     string
	Sections []*Section // in file order, DEFAULT excluded
	Defaults *Section   // [DEFAULT], empty when absent; values as read in no section
	byName   map[string]*Section
}

// Error is a parse error with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Load parses the file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening carbon.conf: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a carbon.conf from r; name is used in messages.
func Parse(name string, r io.Reader) (*File, error) {
	f := &File{Name: name, byName: map[string]*Section{}, Defaults: newSection("DEFAULT", 0)}
	lr := &io.LimitedReader{R: r, N: maxFileBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 4096), maxLineBytes)
	var (
		cur          *Section
		curKey       = -1 // index in cur.Settings of the value being continued
		pendingBlank int
		indentLevel  int
		values       = map[*Section]map[int][]string{} // continuation parts
	)
	fail := func(line int, format string, a ...any) error {
		return &Error{File: name, Line: line, Msg: fmt.Sprintf(format, a...)}
	}
	lineno := 0
	for sc.Scan() {
		lineno++
		line := strings.TrimRight(sc.Text(), "\r")
		stripped := strings.TrimSpace(line)
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			continue // a comment: neither ends nor extends a value
		}
		if stripped == "" {
			if cur != nil && curKey >= 0 {
				pendingBlank++ // kept only if a continuation line follows
			}
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if cur != nil && curKey >= 0 && indent > indentLevel {
			parts := values[cur][curKey]
			for ; pendingBlank > 0; pendingBlank-- {
				parts = append(parts, "")
			}
			values[cur][curKey] = append(parts, stripped)
			continue
		}
		pendingBlank = 0
		indentLevel = indent
		if stripped[0] == '[' {
			end := strings.LastIndexByte(stripped, ']')
			if end > 1 {
				sect := stripped[1:end]
				if sect == "DEFAULT" {
					cur = f.Defaults
				} else if _, dup := f.byName[sect]; dup {
					return nil, fail(lineno, "section [%s] appears twice (carbon refuses the file)", sect)
				} else {
					cur = newSection(sect, lineno)
					f.byName[sect] = cur
					f.Sections = append(f.Sections, cur)
				}
				if values[cur] == nil {
					values[cur] = map[int][]string{}
				}
				curKey = -1
				continue
			}
		}
		if cur == nil {
			return nil, fail(lineno, "a setting before any [section] header (carbon refuses the file)")
		}
		i := strings.IndexAny(stripped, "=:")
		if i < 0 {
			return nil, fail(lineno, "want key = value, got %q", stripped)
		}
		key := strings.ToLower(strings.TrimRight(stripped[:i], " \t"))
		if key == "" {
			return nil, fail(lineno, "a value without a key")
		}
		if _, dup := cur.index[key]; dup {
			return nil, fail(lineno, "%s set twice in [%s] (carbon refuses the file)", strings.ToUpper(key), cur.Name)
		}
		cur.index[key] = len(cur.Settings)
		curKey = len(cur.Settings)
		cur.Settings = append(cur.Settings, Setting{Key: strings.ToUpper(key), Section: cur.Name, File: name, Line: lineno})
		values[cur][curKey] = []string{strings.TrimSpace(stripped[i+1:])}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, lineno+1, err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileBytes)
	}
	for s, m := range values {
		for i, parts := range m {
			s.Settings[i].Raw = strings.Join(parts, "\n")
		}
	}
	if err := f.interpolateAll(); err != nil {
		return nil, err
	}
	return f, nil
}

// interpolateAll sets every setting's Value: its Raw text with %(name)s
// references resolved against its own section and [DEFAULT], as Python's
// configparser does; each section also gets [DEFAULT]'s keys it does not
// set, resolved in that section (what configparser's items(section) gives).
func (f *File) interpolateAll() error {
	// [DEFAULT]'s own values are only read through a section (below); as
	// they stand they may refer to keys only sections set.
	for i := range f.Defaults.Settings {
		budget := maxInterpRefs
		d := &f.Defaults.Settings[i]
		if v, err := f.interpolate(f.Defaults, d.Raw, 1, &budget); err == nil {
			d.Value = v
		} else {
			d.Value = d.Raw
		}
	}
	for _, s := range f.Sections {
		for i := range s.Settings {
			budget := maxInterpRefs
			v, err := f.interpolate(s, s.Settings[i].Raw, 1, &budget)
			if err != nil {
				return &Error{File: f.Name, Line: s.Settings[i].Line, Msg: fmt.Sprintf("%s: %v", s.Settings[i].Key, err)}
			}
			s.Settings[i].Value = v
		}
	}
	for _, s := range f.Sections {
		for _, d := range f.Defaults.Settings {
			if _, own := s.index[strings.ToLower(d.Key)]; own {
				continue
			}
			budget := maxInterpRefs
			v, err := f.interpolate(s, d.Raw, 1, &budget)
			if err != nil {
				return &Error{File: f.Name, Line: d.Line, Msg: fmt.Sprintf("%s (read in [%s]): %v", d.Key, s.Name, err)}
			}
			d.Value = v
			s.defaults = append(s.defaults, d)
		}
	}
	return nil
}

func newSection(name string, line int) *Section {
	return &Section{Name: name, Line: line, index: map[string]int{}}
}

// raw finds key (lower case) in s, then in [DEFAULT].
func (f *File) raw(s *Section, key string) (string, bool) {
	if i, ok := s.index[key]; ok {
		return s.Settings[i].Raw, true
	}
	if i, ok := f.Defaults.index[key]; ok {
		return f.Defaults.Settings[i].Raw, true
	}
	return "", false
}

// interpolate expands %(name)s and %% as Python's BasicInterpolation does.
// budget bounds the expansions, which could otherwise grow exponentially.
func (f *File) interpolate(s *Section, v string, depth int, budget *int) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	if depth > maxInterpDepth {
		return "", errors.New("interpolation nested too deeply (a %(name)s loop?)")
	}
	var b strings.Builder
	for v != "" {
		i := strings.IndexByte(v, '%')
		if i < 0 {
			b.WriteString(v)
			break
		}
		b.WriteString(v[:i])
		v = v[i:]
		switch {
		case strings.HasPrefix(v, "%%"):
			b.WriteByte('%')
			v = v[2:]
		case strings.HasPrefix(v, "%("):
			end := strings.Index(v, ")s")
			if end < 0 {
				return "", fmt.Errorf("bad interpolation syntax in %q", v)
			}
			name := strings.ToLower(v[2:end])
			ref, ok := f.raw(s, name)
			if !ok {
				return "", fmt.Errorf("%%(%s)s refers to a key that is not set", name)
			}
			if *budget--; *budget < 0 {
				return "", fmt.Errorf("more than %d %%(name)s expansions", maxInterpRefs)
			}
			x, err := f.interpolate(s, ref, depth+1, budget)
			if err != nil {
				return "", err
			}
			b.WriteString(x)
			v = v[end+2:]
		default:
			return "", fmt.Errorf("'%%' must be followed by '%%' or '(' (write %%%% for a literal %%), in %q", v)
		}
		if b.Len() > maxValueBytes {
			return "", fmt.Errorf("value longer than %d bytes after interpolation", maxValueBytes)
		}
	}
	return b.String(), nil
}

// Section returns the section called name.
func (f *File) Section(name string) (*Section, bool) {
	s, ok := f.byName[name]
	return s, ok
}

// Program returns the settings carbon's program (cache, relay, aggregator)
// reads, for an instance ("" for none), as carbon's Settings.readFrom
// reads them: configparser's items([program]), then items([program:instance]),
// a later one replacing an earlier one's key. Each items() holds
// [DEFAULT]'s keys interpolated in that section, so with an instance a
// [DEFAULT] key replaces [program]'s value unless [program:instance] sets
// it, as in carbon. The result is in file order of the section each comes
// from.
func (f *File) Program(program, instance string) []Setting {
	var out []Setting
	pos := map[string]int{}
	add := func(s Setting) {
		if i, ok := pos[s.Key]; ok {
			out[i] = s
			return
		}
		pos[s.Key] = len(out)
		out = append(out, s)
	}
	names := []string{program}
	if instance != "" {
		names = append(names, program+":"+instance)
	}
	for _, n := range names {
		s, ok := f.byName[n]
		if !ok {
			continue
		}
		for _, d := range s.defaults {
			add(d)
		}
		for _, st := range s.Settings {
			add(st)
		}
	}
	return out
}

// Bool reads a value as configparser's getboolean does.
func Bool(s Setting) (bool, error) {
	switch strings.ToLower(s.Value) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, &Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("%s = %q: not a boolean (carbon accepts true/false, yes/no, on/off, 1/0)", s.Key, s.Value)}
}

// Number reads a value as carbon does for numeric settings: Python's int(),
// else float() (which accepts "inf").
func Number(s Setting) (float64, error) {
	v := strings.TrimSpace(strings.ReplaceAll(s.Value, "_", ""))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return float64(n), nil
	}
	switch strings.ToLower(strings.TrimLeft(v, "+-")) {
	case "inf", "infinity":
		if strings.HasPrefix(v, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return 0, &Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("%s = %q: not a usable number", s.Key, s.Value)}
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, &Error{File: s.File, Line: s.Line, Msg: fmt.Sprintf("%s = %q: not a number", s.Key, s.Value)}
	}
	return x, nil
}

// List reads a comma-separated value as carbon does for list settings.
func List(s Setting) []string {
	parts := strings.Split(s.Value, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
