// Package graph draws /render's pictures the way graphite-web 1.1's
// glyph.py does: line and pie graphs as PNG, SVG (ending with
// graphite-web's metadata script) and PDF, from the evaluated series.
//
// The drawing logic (layout, axis tics and labels, legend, colours, line
// modes, stacking) follows glyph.py's algorithms; the 2-D work is done
// here in pure Go: paths are flattened and stroked by this package,
// filled by golang.org/x/image/vector for PNG and written as path
// operators for SVG and PDF. Text is DejaVu Sans (embedded with its
// licence in fonts/), drawn as glyph outlines like cairo's text_path.
package graph
