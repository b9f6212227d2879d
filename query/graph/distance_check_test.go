package graph_test

import (
	"bytes"
	"image/png"
	"testing"
)

// TestDistanceCatchesWrongLabel: the PNG distance tells a wrong x-axis
// label (one digit of the hour) from graphite-web's picture, while the
// right picture stays under the gallery's limit.
func TestDistanceCatchesWrongLabel(t *testing.T) {
	_, a := fixture(t)
	c := gallery[0]
	_, want := readGolden(t, c.name)
	wi, err := png.Decode(bytes.NewReader(want.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		extra string
		over  bool
	}{
		{"", false},
		{"&tz=Etc/GMT-1", true},           // 12/31 13:00 for 12/31 12:00
		{"&xFormat=%25m/%25d %25H", true}, // 12/31 12 for 12/31 12:00
	} {
		got := plumbago(a, galleryURI(galleryCase{query: c.query + tc.extra}, "png"))
		gi, err := png.Decode(bytes.NewReader(got.Body))
		if err != nil {
			t.Fatal(err)
		}
		worst, mean := pngDistance(wi, gi)
		t.Logf("%q: worst %.2f mean %.3f", tc.extra, worst, mean)
		if (worst > maxWorst) != tc.over {
			t.Errorf("%q: worst block %.2f, limit %.1f, want over the limit: %v", tc.extra, worst, maxWorst, tc.over)
		}
	}
}
