package graphiteapiconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	maxFileBytes = 1 << 20
	maxKeys      = 10000
)

// Key is one leaf of the file: a dotted path ("carbon.hosts"), its value
// as YAML text (a list flattened to "a, b") and its line.
type Key struct {
	Path  string
	Value string
	Line  int
}

// File is a parsed graphite-api.yaml.
type File struct {
	Name string
	// What Plumbago can use, already typed.
	TimeZone       string
	AllowedOrigins []string
	WhisperDirs    []string
	Finders        []string
	Functions      []string
	CarbonHosts    []string
	// Keys lists every top-level key and every leaf under a mapping, in
	// file order.
	Keys []Key
	// lines maps a top-level key to its line.
	lines map[string]int
}

// Load parses the file at path.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading graphite-api config: %w", err)
	}
	return Parse(path, b)
}

// Where returns "file:line" for a top-level key or dotted path's first part.
func (f *File) Where(path string) string {
	top, _, _ := strings.Cut(path, ".")
	if n := f.lines[top]; n > 0 {
		return fmt.Sprintf("%s:%d", f.Name, n)
	}
	return f.Name
}

// Parse reads graphite-api.yaml from b; name is used in messages.
func Parse(name string, b []byte) (*File, error) {
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileBytes)
	}
	f := &File{Name: name, lines: map[string]int{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // an empty file: graphite-api's defaults
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the file must be a mapping of settings", name, root.Line)
	}
	fail := func(n *yaml.Node, format string, a ...any) error {
		return fmt.Errorf("%s:%d: %s", name, n.Line, fmt.Sprintf(format, a...))
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if _, dup := f.lines[key]; dup {
			return nil, fail(k, "%s appears twice", key)
		}
		f.lines[key] = k.Line
		if err := f.flatten(key, v, k.Line, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var err error
		switch key {
		case "time_zone":
			f.TimeZone, err = scalar(v)
		case "allowed_origins":
			if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				// graphite-api tests `netloc in allowed_origins`: on a
				// string that is a substring test, not what anyone means.
				err = errors.New("write a list of host[:port] origins (graphite-api would match substrings of a single string)")
				break
			}
			f.AllowedOrigins, err = strs(v)
		case "finders":
			f.Finders, err = strs(v)
		case "functions":
			f.Functions, err = strs(v)
		case "whisper":
			if n := child(v, "directories"); n != nil {
				f.WhisperDirs, err = strs(n)
			}
		case "carbon":
			if n := child(v, "hosts"); n != nil {
				f.CarbonHosts, err = strs(n)
			}
		}
		if err != nil {
			return nil, fail(v, "%s: %v", key, err)
		}
	}
	return f, nil
}

// flatten records v under path: scalars and lists as one key, mappings
// key by key.
func (f *File) flatten(path string, v *yaml.Node, line, depth int) error {
	if len(f.Keys) >= maxKeys || depth > 16 {
		return fmt.Errorf("more than %d keys or nested deeper than 16", maxKeys)
	}
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.MappingNode {
		f.Keys = append(f.Keys, Key{Path: path, Value: text(v), Line: line})
		return nil
	}
	if len(v.Content) == 0 {
		f.Keys = append(f.Keys, Key{Path: path, Value: "{}", Line: line})
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if err := f.flatten(path+"."+v.Content[i].Value, v.Content[i+1], v.Content[i].Line, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// text renders a scalar or a list of scalars for messages.
func text(v *yaml.Node) string {
	switch v.Kind {
	case yaml.ScalarNode:
		return v.Value
	case yaml.SequenceNode:
		parts := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			parts = append(parts, text(c))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "…"
}

func child(v *yaml.Node, key string) *yaml.Node {
	if v.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if v.Content[i].Value == key {
			return v.Content[i+1]
		}
	}
	return nil
}

func scalar(v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errors.New("want a single value")
	}
	return v.Value, nil
}

// strs reads a list of strings; a single string is a list of one.
func strs(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, nil
		}
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, errors.New("want a list of strings")
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, errors.New("want a list of strings")
}

// TopKeys returns the top-level keys, sorted.
func (f *File) TopKeys() []string {
	out := make([]string, 0, len(f.lines))
	for k := range f.lines {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
