package statsdconf

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Bounds on evaluating a file.
const (
	maxFileBytes  = 1 << 20
	maxHeapGrowth = 256 << 20 // bytes the evaluation may allocate
	maxDepth      = 32
	// DefaultTimeLimit bounds one evaluation.
	DefaultTimeLimit = 2 * time.Second
)

// File is an evaluated config.js.
type File struct {
	Name string
	// Root is the object the file evaluates to: values are nil, bool,
	// int64, float64, string, []any and map[string]any.
	Root map[string]any
	src  string
}

// Load evaluates the file at path with DefaultTimeLimit.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading statsd config: %w", err)
	}
	return Eval(path, b, DefaultTimeLimit)
}

// Eval evaluates src as statsd evaluates its config file.
func Eval(name string, src []byte, limit time.Duration) (f *File, err error) {
	if len(src) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxFileBytes)
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(1000)
	env := map[string]any{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if err := vm.Set("process", map[string]any{"env": env}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go watch(vm, limit, stop)
	defer func() {
		// goja panics on some engine limits; report them as errors.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%s: evaluating: %v", name, r)
		}
	}()
	v, err := vm.RunScript(name, "config = "+string(src))
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("%s: evaluation stopped: %v", name, ie.Value())
		}
		return nil, fmt.Errorf("%s: evaluating as statsd does (config = <file>): %w", name, err)
	}
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() != "Object" {
		return nil, fmt.Errorf("%s: evaluates to %s, not an object", name, describe(v))
	}
	root, err := plain(vm, obj, "", 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &File{Name: name, Root: root.(map[string]any), src: blankComments(string(src))}, nil
}

// watch interrupts vm after limit, or when the heap grows by more than
// maxHeapGrowth, until stop is closed.
func watch(vm *goja.Runtime, limit time.Duration, stop chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-deadline.C:
			vm.Interrupt(fmt.Sprintf("took longer than %v", limit))
			return
		case <-tick.C:
			metrics.Read(sample)
			if h := sample[0].Value.Uint64(); h > base+maxHeapGrowth {
				vm.Interrupt(fmt.Sprintf("allocated more than %d MiB", maxHeapGrowth>>20))
				return
			}
		}
	}
}

func describe(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	if o, ok := v.(*goja.Object); ok {
		return "a " + o.ClassName()
	}
	return fmt.Sprintf("%T", v.Export())
}

// plain converts a JavaScript value to plain Go data, refusing functions,
// dates, regular expressions and the like (statsd would hand them to code
// expecting data).
func plain(vm *goja.Runtime, v goja.Value, path string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d", path, maxDepth)
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	switch x := v.Export().(type) {
	case bool, string:
		return x, nil
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("%s: a %T is not plain data", path, v.Export())
	}
	switch obj.ClassName() {
	case "Array":
		n := int(obj.Get("length").ToInteger())
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			e, err := plain(vm, obj.Get(fmt.Sprint(i)), fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case "Object":
		out := map[string]any{}
		keys := obj.Keys()
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			e, err := plain(vm, obj.Get(k), p, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	}
	if path == "" {
		path = "the file"
	}
	return nil, fmt.Errorf("%s: a %s is not plain data", path, obj.ClassName())
}

// blankComments replaces the text of JavaScript comments with spaces,
// keeping line breaks, so Line does not find a key in a comment.
func blankComments(src string) string {
	b := []byte(src)
	var quote byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote || c == '\n' {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			b[i], b[i+1] = ' ', ' '
			for i += 2; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// Line returns the line where key (a dotted path; the last part is looked
// for) is first written as an object key, or 0 when it cannot be found
// (a computed key).
func (f *File) Line(path string) int {
	key := path[strings.LastIndexByte(path, '.')+1:]
	re, err := regexp.Compile(`(?m)(^|[{,\s])(` + regexp.QuoteMeta(key) + `|"` + regexp.QuoteMeta(key) + `"|'` + regexp.QuoteMeta(key) + `')\s*:`)
	if err != nil {
		return 0
	}
	loc := re.FindStringIndex(f.src)
	if loc == nil {
		return 0
	}
	return 1 + strings.Count(f.src[:loc[0]+1], "\n")
}

// Where returns "file:line" for a key, or the file name alone.
func (f *File) Where(path string) string {
	if n := f.Line(path); n > 0 {
		return fmt.Sprintf("%s:%d", f.Name, n)
	}
	return f.Name
}
