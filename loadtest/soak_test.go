package loadtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoakCI is the CI version of `plumbago loadtest --scenario soak`: the
// real binary on each backend (in parallel) for 5 minutes under carbon, statsd and query load
// (issue 16's CI soak), stopped every minute (SIGTERM, kill -9, SIGTERM, kill -9, end), with every
// acknowledged point read back after each restart and at the end.
// PLUMBAGO_SOAK_DURATION lengthens it (e.g. 2h).
func TestSoakCI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary for minutes")
	}
	bin := plumbagoBinary(t)
	var err error
	dur, cycle := 5*time.Minute, time.Minute
	if v := os.Getenv("PLUMBAGO_SOAK_DURATION"); v != "" {
		if dur, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
		cycle = dur / 5
	}
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel() // light load: the two soaks share the time, not the CPU
			var log, serverLog bytes.Buffer
			rep, err := Soak(context.Background(), SoakConfig{Binary: bin, DataDir: t.TempDir(), Backend: backend,
				Duration: dur, Cycle: cycle, KillEvery: 2, SyncInterval: time.Second, Metrics: 100, StatsdKeys: 50,
				QueryRate: 2, Log: &log, ServerLog: &serverLog})
			var table bytes.Buffer
			if rep != nil {
				rep.WriteTable(&table)
				t.Logf("\n%s", table.String())
			}
			if err != nil {
				t.Fatalf("soak: %v\n%s\nserver log tail:\n%s", err, log.String(), tail(serverLog.String(), 4000))
			}
			stops := map[string]int{}
			acked := 0
			for _, p := range rep.Phases {
				stops[p.Stop]++
				acked += (p.Acked - p.LostRounds) * rep.Metrics
				if p.MaxFDs == 0 || p.MaxFDs > 1000 || p.MaxGoroutines <= 0 || p.MaxGoroutines > 2000 {
					t.Errorf("run %+v: descriptors or goroutines out of range", p)
				}
			}
			if stops["SIGTERM"] < 1 || stops["kill -9"] < 1 || stops["end"] != 1 {
				t.Errorf("stops %v: want at least one SIGTERM and one kill -9, and the end", stops)
			}
			if acked == 0 || rep.PointsChecked != acked {
				t.Errorf("checked %d points at the end, want every acknowledged one kept (%d)", rep.PointsChecked, acked)
			}
			if len(rep.Samples) < int(dur/time.Second)/2 {
				t.Errorf("%d samples over %v, want one about every second", len(rep.Samples), dur)
			}
			for _, f := range []string{"soak.png", "soak.svg", "soak.json"} {
				p := filepath.Join(t.TempDir(), f)
				var err error
				switch {
				case strings.HasSuffix(f, ".json"):
					err = rep.WriteJSON(p)
				default:
					err = rep.WritePlot(p)
				}
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(p); len(b) < 100 {
					t.Errorf("%s: %d bytes", f, len(b))
				}
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestSoakLossRule pins the kill -9 rule the soak applies: a round may be
// missing only if it was acknowledged less than the sync interval before
// the kill; after a SIGTERM nothing acknowledged may be missing.
func TestSoakLossRule(t *testing.T) {
	kill := time.Unix(1000, 0)
	sync := time.Second
	cases := []struct {
		acked  time.Time
		killed bool
		want   bool
	}{
		{kill.Add(-999 * time.Millisecond), true, true},
		{kill.Add(-time.Second), true, false},
		{kill.Add(-5 * time.Second), true, false},
		{kill.Add(-time.Millisecond), false, false},
	}
	for _, c := range cases {
		if got := lossAllowed(c.acked, kill, c.killed, sync); got != c.want {
			t.Errorf("acknowledged %v before a kill=%v: allowed %v, want %v", kill.Sub(c.acked), c.killed, got, c.want)
		}
	}
}
