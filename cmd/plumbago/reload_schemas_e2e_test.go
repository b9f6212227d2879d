package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSchemasReload streams points over one TCP connection while
// storage-schemas.conf changes: SIGHUP, then a plain file change (picked up
// within 10 s), then a broken file. New series get the schema in force when
// they are created, existing ones keep theirs, no point is lost, and a
// reload that fails keeps the old schemas and says why.
func TestSchemasReload(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := filepath.Join(dir, "storage-schemas.conf")
	agg := filepath.Join(dir, "storage-aggregation.conf")
	write := func(p, body string) {
		t.Helper()
		// A new mtime even on a coarse clock: the watcher compares them.
		old := mtime(p)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if !old.IsZero() && mtime(p).Equal(old) {
			next := old.Add(time.Second)
			os.Chtimes(p, next, next)
		}
	}
	write(schemas, "[all]\npattern = .*\nretentions = 1s:3h\n")
	write(agg, "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n")
	p := startPlumbago(t, bin, "--data-dir", dir, "--schemas", schemas, "--aggregation", agg)
	defer p.stop(t)
	conn, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	const n = 600
	base := time.Now().Unix() - 2*n
	base -= base % 10
	sent := 0
	send := func(names ...string) {
		t.Helper()
		for i := 0; i < n; i++ {
			for _, name := range names {
				fmt.Fprintf(w, "%s %d %d\n", name, i%50, base+int64(i))
				sent++
			}
			if i%100 == 99 {
				if err := w.Flush(); err != nil {
					t.Fatalf("connection dropped: %v", err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s:\n%s", what, p.log)
			}
		}
	}
	committed := func() bool { return p.metric(t, "plumbago_points_committed_total") >= float64(sent) }
	step := func(target string) int64 {
		t.Helper()
		body := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, base, base+n))
		var out []struct {
			Datapoints [][2]*float64 `json:"datapoints"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil || len(out) != 1 || len(out[0].Datapoints) < 2 {
			t.Fatalf("render %s: %v %.200s", target, err, body)
		}
		return int64(*out[0].Datapoints[1][1] - *out[0].Datapoints[0][1])
	}

	send("first.x")
	waitFor("first.x committed", committed)
	write(schemas, "[all]\npattern = .*\nretentions = 2s:3h\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the SIGHUP reload", func() bool { return strings.Contains(p.log.String(), "reloaded storage schemas and aggregation") })
	send("first.x", "second.x") // the same connection: first.x exists, second.x is new
	waitFor("second.x committed", committed)

	// A change without SIGHUP is picked up within 10 s.
	write(schemas, "[all]\npattern = .*\nretentions = 5s:3h\n")
	waitFor("the file-change reload", func() bool { return strings.Contains(p.log.String(), "re-read changed storage schemas") })
	send("third.x")
	waitFor("third.x committed", committed)

	// A broken file keeps the schemas in force.
	write(schemas, "[all]\npattern = .*\nretentions = banana\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the failed reload", func() bool {
		return strings.Contains(p.log.String(), "reload failed; keeping the old storage schemas and aggregation")
	})
	send("fourth.x")
	waitFor("fourth.x committed", committed)

	for target, want := range map[string]int64{"first.x": 1, "second.x": 2, "third.x": 5, "fourth.x": 5} {
		if got := step(target); got != want {
			t.Errorf("%s: step %d s; want %d s", target, got, want)
		}
	}
	if got := p.metric(t, "plumbago_points_committed_total"); got != float64(sent) {
		t.Errorf("committed %v points; sent %d", got, sent)
	}
	if !strings.Contains(p.log.String(), `section [all]: parsing retention \"banana\"`) {
		t.Errorf("the failed reload does not say why:\n%s", p.log)
	}
}
