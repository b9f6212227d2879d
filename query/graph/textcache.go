package graph

import (
	"math"
	"sync"
)

// textKey names one drawn string's coverage exactly: the font, the
// text, the pen's start and the angle (as drawText computed them) and
// the picture's size (coverage is cut to the picture). The same key
// always rasterises to the same coverage.
type textKey struct {
	spec        fontSpec
	text        string
	x, y, angle float64
	w, h        int
}

// textCoverage is a string's coverage over box b of the picture
// ((b.x1−b.x0) × (b.y1−b.y0) bytes; nil when it covers no pixel).
type textCoverage struct {
	b   bbox
	cov []uint8
}

// textCache keeps the coverage of the strings drawn into PNGs (legend
// entries, axis labels, titles), process-wide and bounded: the same
// graph drawn again (a dashboard's refresh) composites its text from
// here instead of laying out, flattening and rasterising every glyph.
// It holds pixels' coverage only, never colours or pictures: a hit
// draws exactly what a miss draws.
type textCache struct {
	mu    sync.Mutex
	m     map[textKey]textCoverage
	bytes int
}

const (
	// textCacheBytes bounds the cache (coverage, text and a per-entry
	// allowance); when a new entry would pass it, the cache is emptied.
	textCacheBytes = 4 << 20
	// textCoverageMax: larger strings (huge fontSize) are not kept.
	textCoverageMax = 64 << 10
	textEntryBytes  = 128
)

var textRasters textCache

func (c *textCache) get(k textKey) (textCoverage, bool) {
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	return v, ok
}

// put keeps v (which must not change after) under k.
func (c *textCache) put(k textKey, v textCoverage) {
	if len(v.cov) > textCoverageMax || len(k.text) > textCoverageMax {
		return
	}
	n := len(v.cov) + len(k.text) + textEntryBytes
	c.mu.Lock()
	if c.m == nil || c.bytes+n > textCacheBytes {
		c.m = make(map[textKey]textCoverage)
		c.bytes = 0
	}
	if _, ok := c.m[k]; !ok {
		c.m[k] = v
		c.bytes += n
	}
	c.mu.Unlock()
}

// fillText fills the outlines of k's text in colour c through clip,
// taking its coverage from textRasters or rasterising it there.
func (r *raster) fillText(k textKey, c rgba, clip *clipState) {
	r.ensureCleared() // composite writes the pending rows it touches
	k.w, k.h = r.w, r.h
	cacheable := !math.IsNaN(k.x+k.y+k.angle) && !math.IsInf(k.x+k.y+k.angle, 0)
	if cacheable {
		if v, ok := textRasters.get(k); ok {
			if v.cov != nil {
				r.composite(c, v.cov, v.b.x1-v.b.x0, v.b, clip)
			}
			return
		}
	}
	r.textPath = path{cmds: r.textPath.cmds[:0], pts: r.textPath.pts[:0]}
	k.spec.appendText(&r.textPath, k.text, k.x, k.y, k.angle)
	r.lines, r.flatBuf = r.textPath.flatten(0.1, r.lines[:0], r.flatBuf)
	cov, b, ok := r.coverage(r.linesGen)
	if ok {
		r.composite(c, cov, b.x1-b.x0, b, clip)
	}
	if cacheable {
		v := textCoverage{}
		if ok {
			v = textCoverage{b: b, cov: append([]uint8(nil), cov...)}
		}
		textRasters.put(k, v)
	}
}
