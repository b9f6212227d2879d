package attime

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"testing"
	"time"
	_ "time/tzdata" // the zone tests need no system tzdata

	"github.com/plumbago/plumbago/internal/testenv"
)

// now is Tue 2026-11-24 17:23:45 UTC.
var now = time.Date(2026, 11, 24, 17, 23, 45, 0, time.UTC)

func TestParseExact(t *testing.T) {
	day := int64(86400)
	n := now.Unix()
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Unix()
	cases := []struct {
		in   string
		want int64
	}{
		{"now", n},
		{"", n},
		{"1700000000", 1700000000},
		{"-6h", n - 6*3600},
		{"-5min", n - 300},
		{"-5minutes", n - 300},
		{"-30s", n - 30},
		{"-30sec", n - 30},
		{"-30seconds", n - 30},
		{"-1d", n - day},
		{"-2days", n - 2*day},
		{"-2w", n - 14*day},
		{"-1weeks", n - 7*day},
		{"-1mon", n - 30*day},
		{"-3months", n - 90*day},
		{"-1y", n - 365*day},
		{"-2years", n - 730*day},
		{"-1h30min", n - 5400},
		{"-1d12h", n - day - 12*3600},
		{"now-1h", n - 3600},
		{"now+1h", n + 3600},
		{"+2h", n + 7200},
		{"-1H", n - 3600},
		{"-1 h", n - 3600},
		{"today", midnight},
		{"yesterday", midnight - day},
		{"tomorrow", midnight + day},
		{"midnight", midnight},
		{"noon", midnight + 12*3600},
		{"teatime", midnight + 16*3600},
		{"noon yesterday", midnight - day + 12*3600},
		{"noonyesterday-1h", midnight - day + 11*3600},
		{"04:00_20110501", time.Date(2011, 5, 1, 4, 0, 0, 0, time.UTC).Unix()},
		{"16:30_20110501", time.Date(2011, 5, 1, 16, 30, 0, 0, time.UTC).Unix()},
		{"20110501", time.Date(2011, 5, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{"05/01/11", time.Date(2011, 5, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{"05/01/2011", time.Date(2011, 5, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{"12/31/69", time.Date(2069, 12, 31, 0, 0, 0, 0, time.UTC).Unix()},
		{"8am", midnight + 8*3600},
		{"8pm", midnight + 20*3600},
		{"10:15pm", midnight + 22*3600 + 15*60},
		{"jan1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{"march15", time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC).Unix()},
		{"monday", midnight - day},
		{"tuesday", midnight},
		{"wednesday", midnight - 6*day},
		{"midnight-1d", midnight - day},
		{"19991231", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC).Unix()},
		{"18991231", 18991231},
	}
	for _, c := range cases {
		got, err := Parse(c.in, now, time.UTC)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got.Unix() != c.want {
			t.Errorf("Parse(%q) = %d (%s), want %d (%s)", c.in, got.Unix(), got, c.want, time.Unix(c.want, 0).UTC())
		}
	}
}

func TestParseZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // time/tzdata is linked into the test binary
	}
	got, err := Parse("midnight", now, berlin)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 24, 0, 0, 0, 0, berlin).Unix(); got.Unix() != want || want != time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("midnight Berlin = %d, want %d", got.Unix(), want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"-5m", "-1", "-h", "bogus", "25:00", "12:61", "02/30/2020", "jan", "-99999999999999d", "now-1x", "13/01/2020", "-1d+", "20:"} {
		if got, err := Parse(in, now, time.UTC); err == nil || !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want error", in, got, err)
		}
	}
}

// TestParseRange: times outside 1900..9999 are refused with the range named
// (the fuzz crasher 700000000000 was year 24152).
func TestParseRange(t *testing.T) {
	for in, want := range map[string]string{
		"700000000000": `parsing time "700000000000": time 24152-02-12 20:26:40 is outside the supported range 1900-01-01 to 9999-12-31: invalid time`,
		"-200y":        `parsing time "-200y": time 1827-01-12 17:23:45 is outside the supported range 1900-01-01 to 9999-12-31: invalid time`,
		"253402300800": `parsing time "253402300800": time 10000-01-01 00:00:00 is outside the supported range 1900-01-01 to 9999-12-31: invalid time`,
	} {
		got, err := Parse(in, now, time.UTC)
		if err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want error %s", in, got, err, want)
		}
	}
	for in, want := range map[string]int64{"253402300799": 253402300799, "-100y": now.Unix() - 100*365*86400, "0": 0} {
		got, err := Parse(in, now, time.UTC)
		if err != nil || got.Unix() != want {
			t.Errorf("Parse(%q) = %v, %v; want %d", in, got.Unix(), err, want)
		}
	}
}

func TestOffset(t *testing.T) {
	for in, want := range map[string]time.Duration{"1h": time.Hour, "-1d": -24 * time.Hour, "+5min": 5 * time.Minute, "": 0, "1mon": 30 * 24 * time.Hour} {
		got, err := Offset(in)
		if err != nil || got != want {
			t.Errorf("Offset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

var oracleInputs = []string{
	"now", "-6h", "-5min", "-1d", "-2w", "-1mon", "-1y", "-1h30min", "-1d12h", "now-1h", "now+1h", "+2h",
	"today", "yesterday", "tomorrow", "midnight", "noon", "teatime", "noon yesterday", "noonyesterday-1h",
	"04:00_20110501", "16:30_20110501", "20110501", "05/01/11", "05/01/2011", "12/31/69", "8am", "8pm",
	"12am", "12pm", "10:15pm", "10:15am", "jan1", "march15", "dec31", "monday", "tuesday", "wednesday", "sunday",
	"midnight-1d", "19991231", "18991231", "1700000000", "-5m", "-1", "bogus", "25:00", "02/30/2020", "jan",
	"now-1x", "13/01/2020", "20:", "1:5", "9:05_tomorrow", "midnight+1w", "teatime-1mon", "6pm-2d3h",
	"-10seconds", "-3hours", "-3hour", "-2minutes", "-1years", "-2weeks", "SATURDAY", "Noon", "-1D",
}

// TestParseOracle compares Parse with Debian's graphite-web parseATTime.
func TestParseOracle(t *testing.T) {
	testenv.Files(t, "apt graphite-web", "/usr/lib/python3/dist-packages/graphite/render/attime.py")
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/New_York"} {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []time.Time{now, time.Date(2026, 7, 4, 1, 2, 3, 0, time.UTC)} {
			req, _ := json.Marshal(map[string]any{"now": ref.Unix(), "tz": tz, "inputs": oracleInputs})
			cmd := exec.Command("/usr/bin/python3", "testdata/attime_oracle.py")
			cmd.Stdin = bytes.NewReader(req)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("oracle: %v", err)
			}
			var want []*int64
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("oracle output %q: %v", out, err)
			}
			for i, in := range oracleInputs {
				got, err := Parse(in, ref, loc)
				switch {
				case want[i] == nil && err == nil:
					t.Errorf("%s now=%d Parse(%q) = %d, graphite-web fails", tz, ref.Unix(), in, got.Unix())
				case want[i] != nil && err != nil:
					t.Errorf("%s now=%d Parse(%q): %v, graphite-web gives %d", tz, ref.Unix(), in, err, *want[i])
				case want[i] != nil && got.Unix() != *want[i]:
					t.Errorf("%s now=%d Parse(%q) = %d, graphite-web gives %d", tz, ref.Unix(), in, got.Unix(), *want[i])
				}
			}
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range oracleInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, now, time.UTC)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error does not wrap ErrInvalid: %v", s, err)
			}
			return
		}
		if got.Before(MinTime) || got.After(MaxTime) {
			t.Fatalf("Parse(%q) = %v out of range", s, got)
		}
	})
}
