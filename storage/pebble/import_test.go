package pebble

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
)

// makeWhisperScript creates whisper files with Debian's python3-whisper.
const makeWhisperScript = `
import json, sys, whisper
for f in json.load(sys.stdin):
    whisper.create(f['path'], [tuple(a) for a in f['archives']], xFilesFactor=f['xff'], aggregationMethod=f['method'])
    for batch in f['writes']:
        whisper.update_many(f['path'], [tuple(p) for p in batch], now=f['now'])
`

type wspSpec struct {
	Path     string         `json:"path"`
	Archives [][2]int64     `json:"archives"`
	XFF      float64        `json:"xff"`
	Method   string         `json:"method"`
	Now      int64          `json:"now"`
	Writes   [][][2]float64 `json:"writes"`
	name     string
	rets     []schema.Retention
	method   schema.Method
	batches  [][]storage.Point
}

func makeWhisperFiles(t *testing.T, specs []*wspSpec) {
	t.Helper()
	for _, sp := range specs {
		if err := os.MkdirAll(filepath.Dir(sp.Path), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, r := range sp.rets {
			sp.Archives = append(sp.Archives, [2]int64{r.SecondsPerPoint, r.Points})
		}
		sp.Method = sp.method.String()
		sp.Writes = [][][2]float64{}
		for _, b := range sp.batches {
			ps := [][2]float64{}
			for _, p := range b {
				ps = append(ps, [2]float64{float64(p.Timestamp), p.Value})
			}
			sp.Writes = append(sp.Writes, ps)
		}
	}
	in, _ := json.Marshal(specs)
	cmd := exec.Command(storetest.Python(), "-c", makeWhisperScript)
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("creating whisper files: %v\n%s", err, out)
	}
}

// TestImportWhisper builds a carbon tree with python3-whisper (several
// schemas and methods, data in every archive, some only in the coarse
// ones, a corrupt file and a tagged file), imports it twice and compares
// fetches with Python whisper's on the original files.
func TestImportWhisper(t *testing.T) {
	storetest.HavePythonWhisper(t)
	root := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	mk := func(rel string, rets string, m schema.Method, xff float64) *wspSpec {
		rs, err := schema.ParseRetentions(rets)
		if err != nil {
			t.Fatal(err)
		}
		var recent, old []storage.Point
		step := rs[0].SecondsPerPoint
		for ts := testNow - rs[0].MaxRetention() + step; ts <= testNow; ts += step {
			if r.IntN(3) > 0 {
				recent = append(recent, storage.Point{Timestamp: ts, Value: float64(r.IntN(1000)) / 4})
			}
		}
		// Points only the coarser archives hold.
		for i := 0; i < 30 && len(rs) > 1; i++ {
			age := rs[0].MaxRetention() + 120 + r.Int64N(rs[len(rs)-1].MaxRetention()-rs[0].MaxRetention()-240)
			old = append(old, storage.Point{Timestamp: testNow - age, Value: float64(r.IntN(100))})
		}
		return &wspSpec{Path: filepath.Join(root, rel), XFF: xff, Now: testNow, name: strings.ReplaceAll(strings.TrimSuffix(rel, ".wsp"), "/", "."),
			rets: rs, method: m, batches: [][]storage.Point{recent, old}}
	}
	specs := []*wspSpec{
		mk("servers/web01/cpu/user.wsp", "10s:1h,1m:1d,5m:7d", schema.Average, 0.5),
		mk("servers/web01/cpu/max.wsp", "10s:1h,1m:1d,5m:7d", schema.Max, 0.1),
		mk("servers/web02/requests.wsp", "1m:6h,10m:2d", schema.Sum, 0),
		mk("stats/gauges/queue.wsp", "1s:10m,1m:1h,1h:3d", schema.Last, 0.3),
		mk("_tagged/abc/def/x.wsp", "1m:1h", schema.Average, 0.5),
		mk("_tagged/123/456/cpu_DOT_user;dc=x;host=a.wsp", "10s:1h,1m:1d", schema.Average, 0.5),
	}
	specs[5].name = "cpu.user;dc=x;host=a"
	specs[4], specs[5] = specs[5], specs[4] // compare the first five
	makeWhisperFiles(t, specs)
	if err := os.WriteFile(filepath.Join(root, "servers", "broken.wsp"), []byte("\x00\x00\x00\x01short"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Now = func() int64 { return testNow }
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for run := 0; run < 2; run++ {
		var calls, lastDone, lastTotal int
		sum, err := ImportWhisper(context.Background(), s, root, func(done, total int, _ int64) {
			calls, lastDone, lastTotal = calls+1, done, total
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d:\n%s", run, sum)
		if calls != 6 || lastDone != 6 || lastTotal != 6 {
			t.Errorf("progress called %d times, last (%d of %d); want 6, (6 of 6)", calls, lastDone, lastTotal)
		}
		wantCreated, wantExisting := 5, 0
		if run == 1 {
			wantCreated, wantExisting = 0, 5
		}
		if sum.Files != 6 || sum.Imported != 5 || sum.Skipped != 1 || sum.SkippedTagged != 1 || sum.Created != wantCreated || sum.Existing != wantExisting || sum.Points == 0 {
			t.Errorf("run %d summary %+v", run, sum)
		}
		if !strings.Contains(sum.String(), "broken.wsp") {
			t.Errorf("run %d summary %q", run, sum.String())
		}
		for _, sp := range specs[:5] {
			rs := sp.rets
			maxRet := rs[len(rs)-1].MaxRetention()
			fetches := [][2]int64{{testNow - rs[0].MaxRetention() + 1, testNow}, {testNow - maxRet, testNow}, {testNow - maxRet/2, testNow - maxRet/4}}
			if len(rs) > 2 {
				fetches = append(fetches, [2]int64{testNow - rs[1].MaxRetention(), testNow})
			}
			want := storetest.PythonWhisper(t, rs, sp.method, sp.XFF, testNow, sp.batches, fetches)
			for j, f := range fetches {
				got, err := s.Fetch(sp.name, f[0], f[1], testNow)
				if err != nil {
					t.Fatalf("%s: %v", sp.name, err)
				}
				storetest.CompareWithWhisper(t, f, got, want[j])
				if j == 1 && countPresent(got) == 0 {
					t.Errorf("%s: no data in the coarsest archive", sp.name)
				}
			}
		}
	}
	// The imported series keep the file's aggregation: new points
	// propagate with it (max over the minute for cpu.max).
	if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: "servers.web01.cpu.max", Points: []storage.Point{{Timestamp: testNow - 3, Value: 1e6}}}}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Fetch("servers.web01.cpu.max", testNow-7200, testNow, testNow)
	if v := got.Values[len(got.Values)-1]; v != 1e6 {
		t.Errorf("max rollup after import: %v, want 1e6", v)
	}
}

func countPresent(s *storage.Series) int {
	n := 0
	for _, v := range s.Values {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

func FuzzParseWhisper(f *testing.F) {
	hdr := []byte{0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0x3f, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 60, 0, 0, 0, 2}
	f.Add(append(hdr, make([]byte, 24)...))
	f.Add([]byte("\x00\x00\x00\x01short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := parseWhisper(b)
		if err != nil {
			return
		}
		for i := range w.archives {
			w.eachPoint(b, i, 0, func(int64, float64) {})
		}
	})
}
