package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/plumbago/plumbago/query"
)

// TestFunctionsOracle compares /functions' signature, group and parameter
// metadata of every function we implement with graphite-web's own
// (read from its function objects; its /functions view is broken on
// Python 3.11). Descriptions are ours and not compared.
func TestFunctionsOracle(t *testing.T) {
	needOracle(t)
	var want map[string]map[string]any
	runPython(t, "testdata/oracle/functions_meta.py", nil, &want, "ORACLE_DIR="+t.TempDir())
	srv := startServer(t, newGenSource(), time.Unix(100000, 0))
	_, _, body := srv.get(t, "/functions")
	body = bytes.ReplaceAll(body, []byte("1e9999"), []byte(`"inf"`))
	var got map[string]map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for _, f := range query.Functions() {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("%s: not a graphite-web 1.1.8 function", f.Name)
			continue
		}
		g := got[f.Name]
		for _, k := range []string{"function", "group", "params"} {
			gj, _ := json.Marshal(g[k])
			wj, _ := json.Marshal(w[k])
			if !bytes.Equal(gj, wj) {
				t.Errorf("%s %s:\n ours %s\n want %s", f.Name, k, gj, wj)
			}
		}
	}
}
