package whisper

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// TestFilePoints: File.Info matches whisper.info and File.Points(i) returns
// exactly what whisper.fetch(archiveToSelect=i) shows over the archive's span
// ending at its newest point, on a Python-made file whose rings wrapped
// several times.
func TestFilePoints(t *testing.T) {
	py := pythonWhisper(t)
	path := filepath.Join(t.TempDir(), "m.wsp")
	const script = `
import json, struct, sys, whisper
path = sys.argv[1]
whisper.create(path, [(10, 30), (60, 20), (300, 12)], 0.3, "absmax")
now = 1700000000
for lap in range(12):
    now += 170
    whisper.update_many(path, [(now - i * 7, float((lap * 31 + i) % 23) - 11.5) for i in range(40)], now=now)
# a jump ahead with few points: older laps' slots stay in the rings, stale
now += 200
whisper.update_many(path, [(now - i * 7, 100.0 + i) for i in range(3)], now=now)
info = whisper.info(path)
out = {"info": [info["aggregationMethod"], info["maxRetention"], info["xFilesFactor"],
                [[a["secondsPerPoint"], a["points"]] for a in info["archives"]]], "archives": []}
with open(path, "rb") as fh:
    data = fh.read()
for i, a in enumerate(info["archives"]):
    newest = max(struct.unpack("!L", data[a["offset"] + k * 12: a["offset"] + k * 12 + 4])[0] for k in range(a["points"]))
    (f, u, s), vals = whisper.fetch(path, newest - a["retention"], newest, now=newest, archiveToSelect=str(a["secondsPerPoint"]))
    out["archives"].append([[f + k * s, repr(v)] for k, v in enumerate(vals) if v is not None])
json.dump(out, sys.stdout)
`
	out, err := exec.Command(py, "-c", script, path).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var res struct {
		Info     []json.RawMessage `json:"info"`
		Archives [][][2]json.RawMessage
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := f.Info()
	if in.Method != schema.AbsMax || in.MaxRetention != 3600 || in.XFilesFactor != float64(float32(0.3)) ||
		len(in.Archives) != 3 || in.Archives[1] != (schema.Retention{SecondsPerPoint: 60, Points: 20}) {
		t.Errorf("Info = %+v", in)
	}
	for i, want := range res.Archives {
		got, err := f.Points(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Errorf("archive %d: %d points, python %d", i, len(got), len(want))
			continue
		}
		for k, w := range want {
			var ts int64
			var vs string
			json.Unmarshal(w[0], &ts)
			json.Unmarshal(w[1], &vs)
			v := parseRepr(t, vs)
			if got[k].Timestamp != ts || math.Float64bits(got[k].Value) != math.Float64bits(v) {
				t.Errorf("archive %d point %d = %+v, python (%d, %v)", i, k, got[k], ts, v)
				break
			}
		}
	}
	if _, err := f.Points(3, nil); err == nil {
		t.Error("archive out of range: want an error")
	}
	sr, ok, err := f.Fetch(1700000000+12*170+100, 1700000000+12*170+200, 1700000000+12*170+200)
	if err != nil || !ok || sr.Step != 10 || len(sr.Values) != 10 {
		t.Errorf("File.Fetch: %+v %v %v", sr, ok, err)
	}
	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.wsp")); err == nil {
		t.Error("OpenFile of a missing file: want an error")
	}
}

func parseRepr(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("value %q: %v", s, err)
	}
	return v
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	now := int64(1_700_000_000)
	s, _ := openStore(t, dir, nil, &now)
	for _, n := range []string{"a.b", "a.c.d", "e", "t;k=v"} {
		if err := s.Write(batch(n, storage.Point{Timestamp: now, Value: 1})); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var mu sync.Mutex
	var got []string
	Walk(dir, 3, func(name, path string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, name+" "+strings.TrimPrefix(path, dir))
	})
	sort.Strings(got)
	want := "a.b /a/b.wsp,a.c.d /a/c/d.wsp,e /e.wsp,t;k=v /_tagged/68f/907/t;k=v.wsp" // readable-named tagged file
	if strings.Join(got, ",") != want {
		t.Errorf("Walk = %v, want %s", got, want)
	}
}
