package graph

import "strings"

// graphTemplate is one section of graphite-web's graphTemplates.conf.
type graphTemplate struct {
	background, foreground, majorLine, minorLine string
	colors                                       []string
	fontName                                     string
	fontSize                                     float64
	fontBold, fontItalic                         bool
}

// defaultTemplate is glyph.py's defaultGraphOptions (equal to the
// [default] section of graphTemplates.conf.example).
var defaultTemplate = graphTemplate{
	background: "white", foreground: "black", majorLine: "rose", minorLine: "grey",
	colors:   strings.Split("blue,green,red,purple,brown,yellow,aqua,grey,magenta,pink,gold,rose", ","),
	fontName: "Sans", fontSize: 10,
}

// templates are the sections of graphite-web's graphTemplates.conf.example
// (template=name); keys a section lacks come from [default].
var templates = map[string]struct{ bg, fg, major, minor, colors string }{
	"solarized-light": {"#fdf6e3", "#657b83", "#073642", "#586e75", "268bd2aa,859900aa,dc322faa,d33682aa,db4b16aa,b58900aa,2aa198aa,6c71c4aa"},
	"solarized-dark":  {"#002b36", "#839496", "#fdf6e3", "#eee8d5", "268bd2aa,859900aa,dc322faa,d33682aa,db4b16aa,b58900aa,2aa198aa,6c71c4aa"},
	"classic":         {"black", "white", "white", "grey", "blue,green,red,purple,brown,yellow,aqua,grey,magenta,pink,gold,rose"},
	"noc":             {"black", "white", "white", "grey", "blue,green,red,yellow,purple,brown,aqua,grey,magenta,pink,gold,rose"},
	"summary":         {"black", "", "", "", "#6666ff, #66ff66, #ff6666"},
	"alphas":          {"white", "black", "grey", "rose", "00ff00aa,ff000077,00337799"},
	"grafana":         {"white", "black", "rose", "grey", "#7eb26d,#eab839,#6ed0e0,#ef843c,#e24d42,#1f78c1,#ba43a9,#705da0,#508642,#cca300,#447ebc"},
	"ocean1":          {"", "", "", "", "f7fcf0,e0f3db,ccebc5,a8ddb5,7bccc4,4eb3d3,2b8cbe,0868ac,084081"},
	"ocean2":          {"", "", "", "", "084081,0868ac,2b8cbe,4eb3d3,7bccc4,a8ddb5,ccebc5,e0f3db,f7fcf0"},
	"forest1":         {"", "", "", "", "f7fcf5,e5f5e0,c7e9c0,a1d99b,74c476,41ab5d,238b45,005a32"},
	"forest2":         {"", "", "", "", "005a32,238b45,41ab5d,74c476,a1d99b,c7e9c0,e5f5e0,f7fcf5"},
	"sunset1":         {"", "", "", "", "fff5eb,fee6ce,fdd0a2,fdae6b,fd8d3c,f16913,d94801,8c2d04"},
	"sunset2":         {"", "", "", "", "8c2d04,d94801,f16913,fd8d3c,fdae6b,fdd0a2,fee6ce,fff5eb"},
	"moonlight1":      {"", "", "", "", "fcfbfd,efedf5,dadaeb,bcbddc,9e9ac8,807dba,6a51a3,4a1486"},
	"moonlight2":      {"", "", "", "", "4a1486,6a51a3,807dba,9e9ac8,bcbddc,dadaeb,efedf5,fcfbfd"},
	"lava1":           {"", "", "", "", "fff5f0,fee0d2,fcbba1,fc9272,fb6a4a,ef3b2c,cb181d,99000d"},
	"lava2":           {"", "", "", "", "99000d,cb181d,ef3b2c,fb6a4a,fc9272,fcbba1,fee0d2,fff5f0"},
}

// templateFor returns the named template; unknown names get the
// defaults, as graphite-web.
func templateFor(name string) graphTemplate {
	t := defaultTemplate
	s, ok := templates[name]
	if !ok {
		return t
	}
	if s.bg != "" {
		t.background = s.bg
	}
	if s.fg != "" {
		t.foreground = s.fg
	}
	if s.major != "" {
		t.majorLine = s.major
	}
	if s.minor != "" {
		t.minorLine = s.minor
	}
	if s.colors != "" {
		t.colors = nil
		for _, c := range strings.Split(s.colors, ",") {
			t.colors = append(t.colors, strings.TrimSpace(c))
		}
	}
	return t
}
