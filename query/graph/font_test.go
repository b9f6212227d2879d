package graph

import "testing"

// TestFontFamily: fontName picks the embedded family fontconfig matches
// on Debian (fc-match), ignoring case and blanks; anything else is
// DejaVu Sans, fontconfig's default.
func TestFontFamily(t *testing.T) {
	for name, want := range map[string]int{
		"": familySans, "Sans": familySans, "DejaVu Sans": familySans, "Arial": familySans, "NoSuchFont": familySans,
		"Serif": familySerif, "serif": familySerif, "Times New Roman": familySerif, "timesnewroman": familySerif,
		"Georgia": familySerif, "DejaVu Serif": familySerif,
		"Mono": familyMono, "Monospace": familyMono, "courier new": familyMono, "DejaVu  Sans Mono": familyMono,
		"Consolas": familyMono, "Liberation Mono": familyMono,
	} {
		if got := fontFamily(name); got != want {
			t.Errorf("fontFamily(%q) = %d, want %d", name, got, want)
		}
	}
}
