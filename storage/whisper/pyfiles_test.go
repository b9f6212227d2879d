package whisper

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
)

// TestWriteIntoPythonFiles: files made by whisper.create + update_many with
// Python's ids 6..8 (avg_zero, absmax, absmin; go-whisper would read them as
// first/mix/percentile) are updated by the store; Python applies the same
// update to its own copy, and both copies read back identically through
// whisper.fetch of every archive, and through our Fetch.
func TestWriteIntoPythonFiles(t *testing.T) {
	py := pythonWhisper(t)
	dir := t.TempDir()
	const now0 = int64(1_700_003_600)
	const script = `
import json, sys, whisper
req = json.load(sys.stdin)
if req["step"] == "create":
    for m in req["methods"]:
        p = req["dir"] + "/" + m + ".wsp"
        whisper.create(p, [(10, 60), (60, 60), (600, 10)], 0.25, m)
        whisper.update_many(p, [tuple(x) for x in req["points"]], now=req["now"])
else:
    out = {}
    for m in req["methods"]:
        p = req["dir"] + "/" + m + ".wsp"
        whisper.update_many(p + ".py", [tuple(x) for x in req["points"]], now=req["now"])
        res = []
        for path in (p, p + ".py"):
            for a, r in ((10, 600), (60, 3600), (600, 6000)):
                (f, u, s), vals = whisper.fetch(path, req["now"] - r, req["now"], now=req["now"], archiveToSelect=str(a))
                res.append([f, u, s, [None if v is None else repr(v) for v in vals]])
        out[m] = [res, whisper.info(p)["aggregationMethod"]]
    json.dump(out, sys.stdout)
`
	run := func(req map[string]any) []byte {
		in, _ := json.Marshal(req)
		cmd := exec.Command(py, "-c", script)
		cmd.Stdin = strings.NewReader(string(in))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, stderr.String())
		}
		return out
	}
	methods := []string{"avg_zero", "absmax", "absmin"}
	var first [][2]float64
	for i := int64(0); i < 300; i += 7 {
		first = append(first, [2]float64{float64(now0 - 3000 + i*10), float64(i%13) - 6})
	}
	run(map[string]any{"step": "create", "dir": dir, "methods": methods, "points": first, "now": now0})
	for _, m := range methods {
		b, _ := os.ReadFile(filepath.Join(dir, m+".wsp"))
		os.WriteFile(filepath.Join(dir, m+".wsp.py"), b, 0o644)
	}
	now := now0 + 95
	var second [][2]float64
	var sps []storage.Point
	for i := int64(0); i < 120; i += 2 {
		ts := now - 1200 + i*10 + 3
		v := float64((i*5)%17) - 8.5
		second = append(second, [2]float64{float64(ts), v})
		sps = append(sps, storage.Point{Timestamp: ts, Value: v})
	}
	s, err := Open(Options{Dir: dir, Index: index.New(), Now: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	<-s.ScanDone()
	for _, m := range methods {
		if err := s.Write(batch(m, sps...)); err != nil {
			t.Fatal(err)
		}
	}
	out := run(map[string]any{"step": "check", "dir": dir, "methods": methods, "points": second, "now": now})
	var res map[string][2]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for _, m := range methods {
		var fetches []json.RawMessage
		json.Unmarshal(res[m][0], &fetches)
		var method string
		json.Unmarshal(res[m][1], &method)
		if method != m {
			t.Errorf("%s: whisper.info says %q after our write", m, method)
		}
		for a := 0; a < 3; a++ {
			ours, _ := decodeFetch(t, fetches[a])
			theirs, _ := decodeFetch(t, fetches[a+3])
			if !sameSeries(ours, theirs) {
				t.Errorf("%s archive %d: file updated by us %v\nby python %v", m, a, ours, theirs)
			}
			known := 0
			for _, v := range theirs.Values {
				if v == v {
					known++
				}
			}
			if known == 0 {
				t.Errorf("%s archive %d: no data, the comparison proves nothing", m, a)
			}
		}
		// And our Fetch agrees with whisper.fetch (the finest archive covering 3000 s is 60 s).
		got, err := s.Fetch(m, now-3000, now, now)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := decodeFetch(t, fetches[4]) // python's copy, 60 s archive
		lo := (got.Start - want.Start) / want.Step
		if got.Step != 60 || lo < 0 || lo+int64(len(got.Values)) > int64(len(want.Values)) || !sameFloats(got.Values, want.Values[lo:lo+int64(len(got.Values))]) {
			t.Errorf("%s: our Fetch %d %d %v\nwhisper.fetch %d %d %v", m, got.Start, got.Step, got.Values, want.Start, want.Step, want.Values)
		}
	}
}
