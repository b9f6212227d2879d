package pebble

import (
	"math"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

func TestSmoke(t *testing.T) {
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	var pts []storage.Point
	for i := int64(0); i < 300; i++ {
		pts = append(pts, storage.Point{Timestamp: now - 300 + i, Value: float64(i)})
	}
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "a.b.c", Points: pts}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Fetch("a.b.c", now-120, now, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", got.Start)
	t.Logf("%v", got.Values[:5])
	got, err = s.Fetch("a.b.c", now-86400*3, now, now)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range got.Values {
		if !math.IsNaN(v) {
			n++
		}
	}
	t.Logf("step %d n %d last %v", got.Step, n, got.Values[len(got.Values)-8:])
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.Fetch("a.b.c", now-86400*3, now, now)
	t.Logf("step %d last %v", got.Step, got.Values[len(got.Values)-8:])
	nodes, _ := s.Find("a.*")
	t.Log(nodes)
	s.Close()
}
