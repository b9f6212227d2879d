package schema

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// pythonWhisper returns a python3 that can import whisper, or skips (fails
// under CI=true).
func pythonWhisper(t *testing.T) string {
	t.Helper()
	return testenv.Python(t, "apt python3-whisper", "whisper")
}

// TestRetentionsOracle compares ParseRetention and ValidateRetentions with
// whisper.parseRetentionDef and whisper.validateArchiveList.
func TestRetentionsOracle(t *testing.T) {
	py := pythonWhisper(t)
	lists := []string{
		"10s:6h,1m:7d,10m:5y", "60:1440", "1m:1d,5m:7d", "1min:1hour,1hours:1weeks", "7s:1m",
		"1w:1y", "60s:1d,5m:30d,1h:3y", "1s:15m,1m:1d", "10s:6h,1m:90d", "10s:6h,1m:7d,1h:5y",
		"60:10,90:100", "60:100,120:50", "1:5,10:100", "60:10,60:20", "1m:1d,1h:1d",
		"1x:1d", "10:1q", "1m:1d:1", "1M:1d", "1:10,2:5,4:1000",
	}
	src := `
import json, sys, whisper
out = []
for l in json.loads(sys.stdin.read()):
    try:
        al = [whisper.parseRetentionDef(x) for x in l.split(",")]
    except Exception as e:
        out.append({"parse": False}); continue
    r = {"parse": True, "archives": [list(a) for a in al]}
    try:
        whisper.validateArchiveList(al); r["valid"] = True
    except Exception:
        r["valid"] = False
    out.append(r)
print(json.dumps(out))
`
	in, _ := json.Marshal(lists)
	cmd := exec.Command(py, "-c", src)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var res []struct {
		Parse    bool       `json:"parse"`
		Archives [][2]int64 `json:"archives"`
		Valid    bool       `json:"valid"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	for i, l := range lists {
		rs, err := ParseRetentions(l)
		if (err == nil) != res[i].Parse {
			t.Errorf("%q: parse error %v, python parsed=%v", l, err, res[i].Parse)
			continue
		}
		if err != nil {
			continue
		}
		for j, a := range res[i].Archives {
			if rs[j] != (Retention{a[0], a[1]}) {
				t.Errorf("%q: archive %d = %v, python %v", l, j, rs[j], a)
			}
		}
		if verr := ValidateRetentions(rs); (verr == nil) != res[i].Valid {
			t.Errorf("%q: validate %v, python valid=%v", l, verr, res[i].Valid)
		}
	}
}
