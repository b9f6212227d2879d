package graph

import (
	"fmt"
	"strconv"
	"strings"
)

// colorAliases are glyph.py's colour names (RGB 0-255).
var colorAliases = map[string][3]uint8{
	"black": {0, 0, 0}, "white": {255, 255, 255}, "blue": {100, 100, 255},
	"green": {0, 200, 0}, "red": {200, 0, 50}, "yellow": {255, 255, 0},
	"orange": {255, 165, 0}, "purple": {200, 100, 255}, "brown": {150, 100, 50},
	"cyan": {0, 255, 255}, "aqua": {0, 150, 150}, "gray": {175, 175, 175},
	"grey": {175, 175, 175}, "magenta": {255, 0, 255}, "pink": {255, 100, 100},
	"gold": {200, 200, 0}, "rose": {200, 150, 200}, "darkblue": {0, 0, 255},
	"darkgreen": {0, 255, 0}, "darkred": {255, 0, 0}, "darkgray": {111, 111, 111},
	"darkgrey": {111, 111, 111},
}

// parseColor reads a colour as glyph.py's setColor does: an alias, or
// rrggbb / #rrggbb / %23rrggbb with an optional alpha byte (ignored
// when forceAlpha). alpha is the alpha to use without an alpha byte.
func parseColor(v string, alpha float64, forceAlpha bool) (rgba, error) {
	if c, ok := colorAliases[v]; ok {
		return rgba{float64(c[0]) / 255, float64(c[1]) / 255, float64(c[2]) / 255, alpha}, nil
	}
	if len(v) < 6 {
		return rgba{}, fmt.Errorf("invalid color %q", v)
	}
	s := strings.TrimPrefix(v, "#")
	s = strings.TrimPrefix(s, "%23")
	if len(s) < 6 {
		return rgba{}, fmt.Errorf("invalid color %q", v)
	}
	var c [3]float64
	for i := range c {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return rgba{}, fmt.Errorf("invalid color %q", v)
		}
		c[i] = float64(n) / 255
	}
	if len(s) == 8 && !forceAlpha {
		n, err := strconv.ParseUint(s[6:8], 16, 8)
		if err != nil {
			return rgba{}, fmt.Errorf("invalid color %q", v)
		}
		alpha = float64(n) / 255
	}
	return rgba{c[0], c[1], c[2], alpha}, nil
}

// mustColor is parseColor for colours validated when parsed.
func mustColor(v string, alpha float64, forceAlpha bool) rgba {
	c, err := parseColor(v, alpha, forceAlpha)
	if err != nil {
		return rgba{0, 0, 0, alpha}
	}
	return c
}
