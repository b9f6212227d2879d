package whisper

import (
	"path/filepath"
	"testing"
	"time"

	gowhisper "github.com/go-graphite/go-whisper"

	"github.com/plumbago/plumbago/storage"
)

// TestGoWhisperReadsOurFiles: go-whisper (go-carbon's reader) opens our files
// and fetches the same values (methods 1..5, which both number alike).
// Not parallel: it swaps go-whisper's package clock.
func TestGoWhisperReadsOurFiles(t *testing.T) {
	dir := t.TempDir()
	now := int64(1_700_000_000)
	rules := mustRules(t, "[a]\npattern = .*\nretentions = 10s:1h,1m:1d\n", "[a]\npattern = .*\naggregationMethod = max\nxFilesFactor = 0.2\n")
	s, _ := openStore(t, dir, rules, &now)
	var ps []storage.Point
	for i := int64(0); i < 500; i += 3 {
		ps = append(ps, storage.Point{Timestamp: now - 5000 + i*10, Value: float64(i)})
	}
	if err := s.Write(batch("g.w", ps...)); err != nil {
		t.Fatal(err)
	}
	gowhisper.Now = func() time.Time { return time.Unix(now, 0) }
	defer func() { gowhisper.Now = time.Now }()
	w, err := gowhisper.OpenWithOptions(filepath.Join(dir, "g", "w.wsp"), &gowhisper.Options{OpenFileFlag: new(int)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.AggregationMethod() != gowhisper.Max || w.XFilesFactor() != 0.2 || len(w.Retentions()) != 2 {
		t.Errorf("go-whisper header: %v %v %v", w.AggregationMethod(), w.XFilesFactor(), w.Retentions())
	}
	for _, r := range [][2]int64{{now - 3000, now}, {now - 80000, now - 100}, {now - 600, now - 300}} {
		ts, err := w.Fetch(int(r[0]), int(r[1]))
		if err != nil || ts == nil {
			t.Fatalf("go-whisper Fetch%v: %v %v", r, ts, err)
		}
		got, err := s.Fetch("g.w", r[0], r[1], now)
		if err != nil {
			t.Fatal(err)
		}
		if int64(ts.FromTime()) != got.Start || int64(ts.Step()) != got.Step || !sameFloats(ts.Values(), got.Values) {
			t.Errorf("range %v: go-whisper %d %d %v\nours %d %d %v", r, ts.FromTime(), ts.Step(), ts.Values(), got.Start, got.Step, got.Values)
		}
	}
}
