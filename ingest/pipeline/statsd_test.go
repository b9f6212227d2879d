package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/statsd"
)

type discardSink struct{}

func (discardSink) AddPoint([]byte, int64, float64) {}
func (discardSink) Flush()                          {}

// TestStatsdFlushLogsSampleDrops: a flush whose interval put a timer over
// timerSampleCap logs it once with the samples not kept; a flush within the
// bounds logs nothing.
func TestStatsdFlushLogsSampleDrops(t *testing.T) {
	cfg := statsd.DefaultConfig()
	cfg.TimerSampleCap = 2
	f, err := statsd.NewFlusher(cfg, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := NewStatsdFlush(nil, f, 10*time.Second, nil, discardSink{}, slog.New(slog.NewTextHandler(&logs, nil)))
	l := statsd.NewLoop(&cfg)
	l.HandlePacket([]byte("t:1|ms\nt:2|ms\nt:3|ms\nt:4|ms\nt:5|ms\nu:1|ms"))
	s.flush([]*statsd.Snapshot{l.Swap()}, time.Unix(1700000010, 0))
	want := `level=INFO msg="statsd timer samples over timerSampleCap or timerSampleBudget: percentiles estimated from a uniform sample" samples_not_kept=3 samples_kept=3`
	if got := strings.TrimSpace(logs.String()); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 0 {
		t.Fatalf("log after the first flush:\n%s\nwant one line ending in\n%s", got, want)
	}
	if tot := f.Totals(); tot.LastTimerSamplesDropped != 3 || tot.TimerSamplesDropped != 3 {
		t.Fatalf("totals %+v, want 3 dropped in the last flush and in all", tot)
	}
	logs.Reset()
	l.HandlePacket([]byte("t:1|ms\nt:2|ms"))
	s.flush([]*statsd.Snapshot{l.Swap()}, time.Unix(1700000020, 0))
	if logs.Len() != 0 {
		t.Fatalf("a flush within the bounds logged:\n%s", logs.String())
	}
	if tot := f.Totals(); tot.LastTimerSamplesDropped != 0 || tot.TimerSamplesDropped != 3 {
		t.Fatalf("totals %+v, want 0 dropped in the last flush, 3 in all", tot)
	}
}
