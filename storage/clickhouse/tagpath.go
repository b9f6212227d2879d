package clickhouse

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/plumbago/plumbago/storage/tagged"
)

// Tagged series are named "name;k=v;k2=v2" in Plumbago (carbon's canonical
// form, tags sorted by "k=v"), but carbon-clickhouse stores them, and
// graphite-clickhouse looks them up, as "name?k=v&k2=v2": the name
// escaped with url.PathEscape, tags sorted by key, keys and values escaped
// with url.QueryEscape. The store converts at its edge: Path columns hold
// the ClickHouse form, everything above the store sees Plumbago's.

// maxTaggedPath bounds a tagged path read from ClickHouse before it is
// parsed (Plumbago's own names are at most tagged.DefaultMaxNameLen).
const maxTaggedPath = 64 << 10

// errTaggedPath is wrapped by every rejection of a tagged path.
var errTaggedPath = errors.New("clickhouse: invalid tagged path")

// tag is one tag of a tagged name.
type tag struct{ k, v string }

// splitTags returns the metric and tags of a Plumbago tagged name
// ("name;k=v;..."), in the name's order.
func splitTags(name string) (string, []tag) {
	segs := strings.Split(name, ";")
	tags := make([]tag, 0, len(segs)-1)
	for _, s := range segs[1:] {
		k, v, _ := strings.Cut(s, "=")
		tags = append(tags, tag{k, v})
	}
	return segs[0], tags
}

// chPath returns the Path under which carbon-clickhouse stores name: name
// itself when it is not tagged.
func chPath(name string) string {
	if strings.IndexByte(name, ';') < 0 {
		return name
	}
	metric, tags := splitTags(name)
	slices.SortStableFunc(tags, func(a, b tag) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.Grow(len(name) + 8)
	b.WriteString(url.PathEscape(metric))
	for i, t := range tags {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(t.k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(t.v))
	}
	return b.String()
}

// taggedRowTags returns the Tags array carbon-clickhouse writes for a
// tagged name: "__name__=" with the metric as it stands in the Path
// (escaped), then each tag as "k=v" unescaped, sorted by key. Each is
// also a Tag1 of one row.
func taggedRowTags(name string) []string {
	metric, tags := splitTags(name)
	slices.SortStableFunc(tags, func(a, b tag) int { return strings.Compare(a.k, b.k) })
	out := make([]string, 0, len(tags)+1)
	out = append(out, "__name__="+url.PathEscape(metric))
	for _, t := range tags {
		out = append(out, t.k+"="+t.v)
	}
	return out
}

// plumbagoName returns the Plumbago name of a Path read from ClickHouse:
// a tagged path ("name?k=v&...") becomes the canonical "name;k=v;..." (as
// graphite-clickhouse shows it, tags sorted); a plain path is returned as
// it is, and a path with ';' but no '?' (Plumbago's form, written by an
// earlier version) is rejected. A tagged path Plumbago cannot hold (bad escapes, no tags, a tag
// carbon's rules reject) is an error wrapping errTaggedPath.
func plumbagoName(path string) (string, error) {
	q := strings.IndexByte(path, '?')
	if q < 0 {
		if strings.IndexByte(path, ';') >= 0 {
			// Plumbago's own form, which it wrote before it used
			// carbon-clickhouse's: its points are under another Path.
			return "", fmt.Errorf("%w %q: not carbon-clickhouse's form (name?k=v)", errTaggedPath, path)
		}
		return path, nil
	}
	if len(path) > maxTaggedPath {
		return "", fmt.Errorf("%w: %d bytes, more than %d", errTaggedPath, len(path), maxTaggedPath)
	}
	metric, err := url.PathUnescape(path[:q])
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", errTaggedPath, path, err)
	}
	if metric == "" || strings.IndexByte(metric, ';') >= 0 {
		return "", fmt.Errorf("%w %q: bad metric name", errTaggedPath, path)
	}
	var b strings.Builder
	b.Grow(len(path))
	b.WriteString(metric)
	n := 0
	for pair := range strings.SplitSeq(path[q+1:], "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return "", fmt.Errorf("%w %q: tag %q has no '='", errTaggedPath, path, pair)
		}
		if k, err = url.QueryUnescape(k); err != nil {
			return "", fmt.Errorf("%w %q: %w", errTaggedPath, path, err)
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return "", fmt.Errorf("%w %q: %w", errTaggedPath, path, err)
		}
		if strings.IndexByte(k, '=') >= 0 || strings.IndexByte(k, ';') >= 0 || strings.IndexByte(v, ';') >= 0 {
			return "", fmt.Errorf("%w %q: tag %q", errTaggedPath, path, pair)
		}
		if n++; n > tagged.MaxTags {
			return "", fmt.Errorf("%w %q: more than %d tags", errTaggedPath, path, tagged.MaxTags)
		}
		b.WriteByte(';')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	norm, err := tagged.Normalize(nil, []byte(b.String()))
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", errTaggedPath, path, err)
	}
	if !tagged.IsTagged(norm) {
		return "", fmt.Errorf("%w %q: no tags", errTaggedPath, path)
	}
	return string(norm), nil
}
