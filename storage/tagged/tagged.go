package tagged

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid tagged series")

// MaxTags bounds the number of tags of one series.
const MaxTags = 128

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// IsTagged reports whether name is in one of the tagged forms.
func IsTagged(name []byte) bool {
	return bytes.IndexByte(name, ';') >= 0 || isOpenMetrics(name)
}

func isOpenMetrics(name []byte) bool {
	return bytes.HasSuffix(name, []byte(`"}`)) && bytes.IndexByte(name, '{') >= 0
}

// validate applies carbon's TaggedSeries.validateTagAndValue.
func validate(tag, value []byte) error {
	if len(tag) == 0 {
		return invalid("tag may not be empty")
	}
	if len(value) == 0 {
		return invalid("value for tag %q may not be empty", tag)
	}
	if i := bytes.IndexAny(tag, ";!^="); i >= 0 {
		return invalid("character %q is not allowed in tag %q", tag[i], tag)
	}
	if bytes.IndexByte(value, ';') >= 0 {
		return invalid("character ';' is not allowed in value %q of tag %q", value, tag)
	}
	if value[0] == '~' {
		return invalid("tag values are not allowed to start with '~' in tag %q", tag)
	}
	return nil
}

type kv struct{ k, v []byte }

// Normalize returns name in carbon's canonical form. Untagged names are
// returned as they are (only a leading '~', which carbon strips, is
// removed). When the result equals name, name itself is returned and nothing
// is allocated; otherwise the result is appended to dst[:0].
func Normalize(dst, name []byte) ([]byte, error) {
	var arr [16]kv
	tags := arr[:0]
	var metric []byte
	if isOpenMetrics(name) {
		var err error
		metric, tags, err = parseOpenMetrics(name, tags)
		if err != nil {
			return nil, err
		}
		return formatChecked(dst[:0], name, metric, tags)
	}
	semi := bytes.IndexByte(name, ';')
	if semi < 0 {
		if len(name) == 0 {
			return nil, invalid("empty metric name")
		}
		trimmed := bytes.TrimLeft(name, "~")
		if len(trimmed) == 0 {
			return nil, invalid("metric name %q is empty once '~' is stripped", name)
		}
		return trimmed, nil
	}
	metric = name[:semi]
	if len(metric) == 0 {
		return nil, invalid("cannot parse path %q, no metric found", name)
	}
	rest := name[semi+1:]
	for {
		var seg []byte
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			seg, rest = rest, nil
		}
		eq := bytes.IndexByte(seg, '=')
		if eq <= 0 {
			return nil, invalid("cannot parse path %q, invalid segment %q", name, seg)
		}
		k, v := seg[:eq], seg[eq+1:]
		if err := validate(k, v); err != nil {
			return nil, err
		}
		if len(tags) >= MaxTags {
			return nil, invalid("more than %d tags", MaxTags)
		}
		tags = append(tags, kv{k, v})
		if rest == nil {
			break
		}
	}
	// Fast path: already canonical, so the input is its own canonical form.
	if metric[0] != '~' && isCanonical(tags) {
		return name, nil
	}
	return formatChecked(dst[:0], name, metric, canonical(tags))
}

// formatChecked formats a canonical name and refuses one that would not read
// back as itself: a result shaped like OpenMetrics (ending in `"}` with a '{'
// in it, which can come from sorting tags or from a value holding those
// characters) would be parsed as OpenMetrics the next time it is seen.
func formatChecked(dst, name, metric []byte, tags []kv) ([]byte, error) {
	out, err := format(dst, metric, tags)
	if err != nil {
		return nil, err
	}
	if isOpenMetrics(out) {
		return nil, invalid("canonical form of %q would read as OpenMetrics", name)
	}
	return out, nil
}

// canonical drops the name tag and earlier duplicates (Python dict: last
// assignment wins) and sorts by ";tag=value", as TaggedSeries.format does.
func canonical(tags []kv) []kv {
	out := tags[:0]
	for i, t := range tags {
		if string(t.k) == "name" {
			continue
		}
		dup := false
		for _, u := range tags[i+1:] {
			if bytes.Equal(u.k, t.k) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, t)
		}
	}
	// Insertion sort: few tags, and no allocation.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && segLess(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// isCanonical reports whether tags are strictly sorted, free of the name
// tag and of duplicate keys (equal keys sort next to each other).
func isCanonical(tags []kv) bool {
	for i, t := range tags {
		if string(t.k) == "name" {
			return false
		}
		if i > 0 && (!segLess(tags[i-1], t) || bytes.Equal(tags[i-1].k, t.k)) {
			return false
		}
	}
	return true
}

// segLess compares ";k=v" strings without building them.
func segLess(a, b kv) bool {
	// Compare k+"="+v lexicographically.
	la, lb := len(a.k)+1+len(a.v), len(b.k)+1+len(b.v)
	for i := 0; i < la && i < lb; i++ {
		ca, cb := segAt(a, i), segAt(b, i)
		if ca != cb {
			return ca < cb
		}
	}
	return la < lb
}

func segAt(t kv, i int) byte {
	if i < len(t.k) {
		return t.k[i]
	}
	if i == len(t.k) {
		return '='
	}
	return t.v[i-len(t.k)-1]
}

func format(dst, metric []byte, tags []kv) ([]byte, error) {
	m := bytes.TrimLeft(metric, "~")
	if len(m) == 0 {
		return nil, invalid("cannot use metric name %q as tag value, results in empty string", metric)
	}
	dst = append(dst, m...)
	for _, t := range tags {
		dst = append(dst, ';')
		dst = append(dst, t.k...)
		dst = append(dst, '=')
		dst = append(dst, t.v...)
	}
	return dst, nil
}

// parseOpenMetrics parses metric{tag="value",...} like carbon's
// TaggedSeries.parse_openmetrics.
func parseOpenMetrics(path []byte, tags []kv) ([]byte, []kv, error) {
	body := path[:len(path)-1]
	open := bytes.IndexByte(body, '{')
	metric, raw := body[:open], body[open+1:]
	if bytes.IndexByte(raw, '{') >= 0 {
		return nil, nil, invalid("cannot parse path %q", path)
	}
	if len(metric) == 0 {
		return nil, nil, invalid("cannot parse path %q, no metric found", path)
	}
	if bytes.IndexByte(metric, ';') >= 0 {
		// metric;tag=value would read back as carbon's form with other tags.
		return nil, nil, invalid("character ';' is not allowed in metric name of %q", path)
	}
	for len(raw) > 0 {
		// ([^=]+)="((?:[\\]["\\]|[^"\\])+)"(:?,|$)
		eq := bytes.IndexByte(raw, '=')
		if eq <= 0 || eq+1 >= len(raw) || raw[eq+1] != '"' {
			return nil, nil, invalid("cannot parse path %q, invalid segment %q", path, raw)
		}
		tag := raw[:eq]
		j := eq + 2
		var val []byte
		escaped := false
		for ; j < len(raw); j++ {
			c := raw[j]
			if c == '\\' {
				if j+1 < len(raw) && (raw[j+1] == '"' || raw[j+1] == '\\') {
					escaped = true
					j++
					continue
				}
				return nil, nil, invalid("cannot parse path %q, invalid segment %q", path, raw)
			}
			if c == '"' {
				break
			}
		}
		if j >= len(raw) || j == eq+2 {
			return nil, nil, invalid("cannot parse path %q, invalid segment %q", path, raw)
		}
		val = raw[eq+2 : j]
		if escaped {
			var u []byte
			for k := 0; k < len(val); k++ {
				if val[k] == '\\' {
					k++
				}
				u = append(u, val[k])
			}
			val = u
		}
		j++ // closing quote
		switch {
		case j == len(raw):
		case raw[j] == ',':
			j++
		case raw[j] == ':' && j+1 < len(raw) && raw[j+1] == ',':
			j += 2
		default:
			return nil, nil, invalid("cannot parse path %q, invalid segment %q", path, raw)
		}
		if err := validate(tag, val); err != nil {
			return nil, nil, err
		}
		if len(tags) >= MaxTags {
			return nil, nil, invalid("more than %d tags", MaxTags)
		}
		tags = append(tags, kv{tag, val})
		raw = raw[j:]
	}
	return metric, canonical(tags), nil
}

// Parse splits a canonical (normalized) tagged name into its metric name and
// tags, the name tag included, in a map as graphite-web's TaggedSeries.tags.
func Parse(name string) (map[string]string, error) {
	n, err := Normalize(nil, []byte(name))
	if err != nil {
		return nil, err
	}
	segs := strings.Split(string(n), ";")
	tags := make(map[string]string, len(segs))
	tags["name"] = segs[0]
	for _, s := range segs[1:] {
		k, v, _ := strings.Cut(s, "=")
		tags[k] = v
	}
	return tags, nil
}

// StoragePath returns where carbon stores a series: a tagged (canonical)
// name goes under _tagged/<sha256[0:3]>/<sha256[3:6]>/ with the file named by
// the full hash (hashOnly, carbon's default TAG_HASH_FILENAMES=True) or by
// the name with '.' replaced by "_DOT_"; an untagged name just has its dots
// replaced by sep, leading separators trimmed. Add ".wsp" for whisper.
func StoragePath(name string, sep string, hashOnly bool) string {
	if strings.IndexByte(name, ';') >= 0 {
		sum := sha256.Sum256([]byte(name))
		h := hex.EncodeToString(sum[:])
		file := h
		if !hashOnly {
			file = strings.ReplaceAll(name, ".", "_DOT_")
		}
		return "_tagged" + sep + h[0:3] + sep + h[3:6] + sep + file
	}
	return strings.TrimLeft(strings.ReplaceAll(name, ".", sep), sep)
}

// DefaultMaxNameLen is the longest metric name accepted by ValidatePath by
// default (most filesystems allow 255 bytes per path component and 4096 per
// path).
const DefaultMaxNameLen = 1024

// ValidatePath rejects names that would escape the data directory or
// collide with another name on disk once dots become directories: empty
// names, names longer than maxLen, path separators ('/' and '\\'), NUL and
// other control bytes, empty nodes (leading, trailing or doubled dots),
// nodes longer than 255 bytes (a filesystem limit) and the "_tagged" prefix
// reserved for tagged series. Tagged names are checked on their metric part;
// their tags never reach the filesystem (the file is named by hash).
func ValidatePath(name []byte, maxLen int) error {
	if maxLen <= 0 {
		maxLen = DefaultMaxNameLen
	}
	if len(name) == 0 {
		return invalid("empty metric name")
	}
	if len(name) > maxLen {
		return invalid("metric name of %d bytes exceeds %d", len(name), maxLen)
	}
	node := 0
	i := 0
	for ; i < len(name); i++ {
		switch nameClass[name[i]] {
		case classOK:
			node++
			continue
		case classDot:
		case classSemi:
		default:
			return badByte(name, i)
		}
		// End of a node: '.' or the ';' that starts the tags.
		if node == 0 {
			return invalid("empty node in metric name %q", name)
		}
		if node > 255 {
			return invalid("node longer than 255 bytes in metric name")
		}
		node = 0
		if name[i] == ';' {
			break
		}
	}
	if i == len(name) && (node == 0 || node > 255) {
		if node == 0 {
			return invalid("empty node in metric name %q", name)
		}
		return invalid("node longer than 255 bytes in metric name")
	}
	// Tags never reach the filesystem: only control bytes are refused.
	for j := i; j < len(name); j++ {
		if c := name[j]; c < 0x20 || c == 0x7f {
			return badByte(name, j)
		}
	}
	if len(name) >= 7 && name[0] == '_' && string(name[:7]) == "_tagged" && (len(name) == 7 || name[7] == '.' || name[7] == ';') {
		return invalid("metric name %q uses the reserved _tagged prefix", name)
	}
	return nil
}

const (
	classOK uint8 = iota
	classDot
	classSemi
	classBad
)

// nameClass classifies the bytes of a metric path.
var nameClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = classBad
	}
	t[0x7f] = classBad
	t['/'] = classBad
	t['\\'] = classBad
	t['.'] = classDot
	t[';'] = classSemi
	return t
}()

func badByte(name []byte, i int) error {
	if c := name[i]; c == '/' || c == '\\' {
		return invalid("path separator in metric name %q", name)
	}
	return invalid("control byte 0x%02x in metric name", name[i])
}
