// Package target parses Graphite render targets with the grammar of
// graphite-web 1.1 (render/grammar_unsafe.py): path expressions with globs
// and brace lists, function calls with positional and keyword arguments,
// numbers (int, float, scientific), quoted strings without escape processing,
// true/false, None, inf and pipes (a.b|sumSeries()).
//
// Pipes are desugared while parsing: x|f(a) becomes f(x, a).
//
// Deliberate differences from graphite-web: the whole input must be consumed
// (pyparsing silently ignores trailing text, which turns a malformed call into
// a fetch of a metric named after the function); keywords such as true, None
// or inf followed by more path characters are parsed as path expressions
// instead of failing; bytes >= 0x80 are accepted in paths (graphite-web's
// UTF8_METRICS). template(...) parses as an ordinary call; the evaluator
// checks its arguments.
package target
