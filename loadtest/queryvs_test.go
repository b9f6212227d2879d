package loadtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryVsTwoServers runs `plumbago loadtest --scenario query-vs` as a
// user would, against two real Plumbago servers on loopback: it loads a
// small dataset into both, times every query on both and prints one table
// row per query with the answers' series counts.
func TestQueryVsTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts plumbago")
	}
	a, b := startPlumbago(t, "pebble"), startPlumbago(t, "pebble")
	spec := func(name string, s *plumbagoServer) string {
		return name + "=" + s.httpBase + ";carbon=" + s.carbon + ";counter=" + MetricCommitted
	}
	jsonPath := filepath.Join(t.TempDir(), "qvs.json")
	var stdout, stderr bytes.Buffer
	err := Main([]string{"--scenario", QueryVsScenario, "--servers", spec("A", a) + "," + spec("B", b),
		"--series", "6000", "--points", "3", "--step", "1s", "--load", "--label", "small",
		"--warmup", "1", "--seq", "2", "--clients", "2", "--duration", "200ms", "--json", jsonPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("query-vs: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2+len(DefaultQueryCases()) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), 2+len(DefaultQueryCases()), stdout.String())
	}
	wantSeries := []string{"1 / 1", "1 / 1", "1 / 1", "5 / 5", "100 / 100", "100 / 100", "1 / 1"}
	for i, q := range DefaultQueryCases() {
		row := lines[2+i]
		if !strings.HasPrefix(row, "| small | `"+q.Name+"` |") || !strings.HasSuffix(row, " "+wantSeries[i]+" |") {
			t.Errorf("row %d = %q, want the query %q and series %q", i, row, q.Name, wantSeries[i])
		}
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var stats []QueryStat
	if err := json.Unmarshal(raw, &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2*len(DefaultQueryCases()) {
		t.Fatalf("%d figures, want %d", len(stats), 2*len(DefaultQueryCases()))
	}
	for _, s := range stats {
		if s.Errors != 0 || s.SeqP50 <= 0 || s.ReqPerSec <= 0 || s.Bytes == 0 {
			t.Errorf("%s %s: %+v", s.Server, s.Query, s)
		}
	}
	// Both servers stored the same points: the one-series answer is the same size.
	if stats[0].Bytes != stats[1].Bytes {
		t.Errorf("one series: %d bytes from A, %d from B", stats[0].Bytes, stats[1].Bytes)
	}
	if !strings.Contains(stderr.String(), "sent 18000 points to 2 servers") {
		t.Errorf("progress log: %s", stderr.String())
	}
}
