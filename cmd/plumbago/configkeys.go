package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/plumbago/plumbago/ingest/statsd"
)

// unknownKeys decodes the TOML tables into scratch copies of their types
// (so their keys count as known), then names every key left undecoded with
// the closest valid key of its table. A misspelt key must not pass silently.
func unknownKeys(path string, md toml.MetaData, c *Config) error {
	tables := []struct {
		name string
		prim toml.Primitive
		into any
	}{
		{"statsd", c.Statsd, new(statsd.Config)},
		{"carbon", c.Carbon, new(carbonConfig)},
	}
	valid := map[string][]string{"": tomlPaths(reflect.TypeFor[Config](), "")}
	for _, t := range tables {
		valid[t.name] = tomlPaths(reflect.TypeOf(t.into).Elem(), t.name+".")
		if !md.IsDefined(t.name) {
			continue
		}
		if err := md.PrimitiveDecode(t.prim, t.into); err != nil {
			return fmt.Errorf("config %q: [%s]: %w", path, t.name, err)
		}
	}
	var msgs []string
	for _, k := range md.Undecoded() {
		table := ""
		if len(k) > 1 {
			if _, ok := valid[k[0]]; ok {
				table = k[0]
			}
		}
		// Array-of-tables elements come without an index; so do our paths.
		key := strings.Join(k, ".")
		msg := fmt.Sprintf("unknown key %q", key)
		if best := closest(key, valid[table]); best != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", best)
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("config %q: %s", path, strings.Join(msgs, "; "))
	}
	return nil
}

// tomlPaths lists the dotted TOML keys of a struct, nested tables and
// arrays of tables included.
func tomlPaths(rt reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Duration]() && ft != reflect.TypeFor[toml.Primitive]() {
			out = append(out, tomlPaths(ft, prefix+tag+".")...)
			continue
		}
		out = append(out, prefix+tag)
	}
	sort.Strings(out)
	return out
}

// closest returns the candidate nearest to key by edit distance, of the
// whole path or of its last part (a key put in the wrong table), when it
// is near enough to be a misspelling.
func closest(key string, candidates []string) string {
	leaf := func(s string) string { return strings.ToLower(s[strings.LastIndexByte(s, '.')+1:]) }
	best, bestD := "", len(leaf(key))/3+2
	for _, c := range candidates {
		d := min(editDistance(strings.ToLower(key), strings.ToLower(c)), editDistance(leaf(key), leaf(c)))
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
