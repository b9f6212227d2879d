package storetest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
)

// oracleScript creates a whisper file, applies update_many batches at a
// fixed now and answers fetches, all with Debian's python3-whisper.
const oracleScript = `
import json, math, sys, whisper
req = json.load(sys.stdin)
path = req['path']
whisper.create(path, [tuple(a) for a in req['archives']], xFilesFactor=req['xff'], aggregationMethod=req['method'])
for batch in req['writes']:
    whisper.update_many(path, [tuple(p) for p in batch], now=req['now'])
out = []
for f, u in req['fetches']:
    r = whisper.fetch(path, f, u, now=req['now'])
    if r is None:
        out.append(None)
        continue
    (s, e, st), vals = r
    out.append({'start': s, 'step': st, 'values': [None if v is None or math.isnan(v) else v for v in vals]})
json.dump(out, sys.stdout)
`

// Python returns the interpreter that has Debian's python3-whisper:
// /usr/bin/python3 when it can import whisper (a pyenv shim may shadow it
// in PATH), else python3 from PATH.
func Python() string {
	if err := exec.Command("/usr/bin/python3", "-c", "import whisper").Run(); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// HavePythonWhisper reports whether python3 can import whisper. When it
// cannot, oracle tests skip, or fail if the environment variable CI is
// "true".
func HavePythonWhisper(t testing.TB) bool {
	t.Helper()
	if err := exec.Command(Python(), "-c", "import whisper").Run(); err != nil {
		testenv.Missing(t, "python3 cannot import whisper (apt python3-whisper): %v", err)
		return false
	}
	return true
}

type oracleReq struct {
	Path     string     `json:"path"`
	Archives [][2]int64 `json:"archives"`
	XFF      float64    `json:"xff"`
	Method   string     `json:"method"`
	Now      int64      `json:"now"`
	Writes   [][][2]any `json:"writes"`
	Fetches  [][2]int64 `json:"fetches"`
}

// OracleSeries is one Python whisper fetch result.
type OracleSeries struct {
	Start  int64      `json:"start"`
	Step   int64      `json:"step"`
	Values []*float64 `json:"values"`
}

// PythonWhisper runs the writes and fetches through Python whisper and
// returns one result per fetch (nil where whisper returns None).
func PythonWhisper(t testing.TB, rets []schema.Retention, method schema.Method, xff float64, now int64, writes [][]storage.Point, fetches [][2]int64) []*OracleSeries {
	t.Helper()
	req := oracleReq{
		Path:    filepath.Join(t.TempDir(), "oracle.wsp"),
		XFF:     xff,
		Method:  method.String(),
		Now:     now,
		Fetches: fetches,
		Writes:  [][][2]any{},
	}
	for _, r := range rets {
		req.Archives = append(req.Archives, [2]int64{r.SecondsPerPoint, r.Points})
	}
	for _, b := range writes {
		var pts [][2]any
		for _, p := range b {
			pts = append(pts, [2]any{p.Timestamp, p.Value})
		}
		req.Writes = append(req.Writes, pts)
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Python(), "-c", oracleScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python whisper oracle: %v\n%s", err, stderr.String())
	}
	var res []*OracleSeries
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decoding oracle output %q: %v", out, err)
	}
	return res
}
