package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/pebble"
)

// TestStartLoadsNamesInBackground starts the binary on a pebble store of
// 100,000 series written directly. From the first moment /readyz and
// /metrics/find are polled side by side: /readyz goes from 503 "starting"
// to 200 and never back, a find answered 200 is always complete (the 100
// names of one host, never a part), and once ready, find and a sumSeries
// render give the exact stored names and values. Then a new series and a
// new point of a stored one are written, the server restarted, and find
// and render answer exactly from the reloaded names.
func TestStartLoadsNamesInBackground(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	now := time.Now().Unix()
	ts := now - now%60 - 120
	st, err := pebble.Open(pebble.Options{Dir: filepath.Join(dir, "pebble")})
	if err != nil {
		t.Fatal(err)
	}
	var b storage.Batch
	for i := range 100000 {
		b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("big.h%04d.m%02d", i/100, i%100),
			Points: []storage.Point{{Timestamp: ts, Value: float64(i)}}})
	}
	if err := st.Write(&b); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	p := launchPlumbago(t, bin, "--data-dir", dir, "--backend", "pebble")
	get := func(path string) (int, string) {
		r, err := http.Get("http://" + p.http + path)
		if err != nil {
			return 0, ""
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(body)
	}
	var wantFind []string
	for i := range 100 {
		wantFind = append(wantFind, fmt.Sprintf("big.h0777.m%02d", i))
	}
	findIDs := func(body string) []string {
		var nodes []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(body), &nodes); err != nil {
			t.Fatalf("find answer %q: %v", body, err)
		}
		var ids []string
		for _, n := range nodes {
			ids = append(ids, n.ID)
		}
		return ids
	}

	// Poll /readyz and find side by side from the start.
	type seen struct{ code int }
	readyDone := make(chan []seen, 1)
	go func() {
		var s []seen
		for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			code, body := get("/readyz")
			if code == 0 {
				continue
			}
			if code == 503 && !strings.Contains(body, "starting") {
				t.Errorf("/readyz 503 while starting: %q", body)
			}
			s = append(s, seen{code})
			if code == 200 && len(s) > 1 && s[len(s)-2].code == 200 {
				break // ready twice in a row: stays ready below too
			}
		}
		readyDone <- s
	}()
	finds, partial := 0, 0
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no complete find within 120 s:\n%s", p.log)
		}
		code, body := get("/metrics/find?query=big.h0777.*")
		if code != 200 {
			continue
		}
		finds++
		if got := findIDs(body); !slices.Equal(got, wantFind) {
			partial++
			t.Errorf("find answered 200 with %d names, want the 100 of big.h0777", len(got))
			continue
		}
		break
	}
	ready := <-readyDone
	last := 0
	for i, s := range ready {
		if s.code != 200 && s.code != 503 {
			t.Fatalf("/readyz answered %d", s.code)
		}
		if last == 200 && s.code != 200 {
			t.Fatalf("/readyz went back to %d after ready (answer %d)", s.code, i)
		}
		last = s.code
	}
	if last != 200 {
		t.Fatalf("/readyz never 200: %v\n%s", ready, p.log)
	}
	notReady := 0
	for _, s := range ready {
		if s.code == 503 {
			notReady++
		}
	}
	t.Logf("/readyz: %d answers 503 starting, then 200; find: %d answers 200, %d partial", notReady, finds, partial)
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d once loaded", code)
	}
	// sum of big.h0777.m00..m99 = 77700 + ... + 77799
	code, body := get(fmt.Sprintf("/render?target=sumSeries(big.h0777.*)&from=%d&until=%d&format=json", ts-60, ts+60))
	want := fmt.Sprintf("[%d.0, %d]", 77700*100+4950, ts)
	if code != 200 || !strings.Contains(body, want) {
		t.Fatalf("render: %d %s, want the point %s", code, body, want)
	}
	for _, l := range []string{"series names indexed", "series names loaded"} {
		if !p.waitLog(l) {
			t.Fatalf("no %q log line:\n%s", l, p.log)
		}
	}

	// Written once loaded (a new series and a new point of a stored one),
	// then a restart: find and render answer exactly from the reloaded names.
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "big.new.m00 7 %d\nbig.h0001.m01 9.5 %d\n", ts, ts+10)
	c.Close()
	for deadline := time.Now().Add(30 * time.Second); p.metric(t, "plumbago_points_received_total") < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two points were not received:\n%s", p.log)
		}
	}
	p.stop(t)
	p = launchPlumbago(t, bin, "--data-dir", dir, "--backend", "pebble")
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no find after the restart within 120 s:\n%s", p.log)
		}
		code, body := get("/metrics/find?query=big.new.*")
		if code != 200 {
			continue
		}
		if got, want := findIDs(body), []string{"big.new.m00"}; !slices.Equal(got, want) {
			t.Fatalf("find after the restart = %v, want %v", got, want)
		}
		break
	}
	for target, want := range map[string]string{
		"sumSeries(big.h0777.*)": fmt.Sprintf("[[%d.0, %d], [null, %d]]", 77700*100+4950, ts, ts+10),
		"big.new.m00":            fmt.Sprintf("[[7.0, %d], [null, %d]]", ts, ts+10),
		"big.h0001.m01":          fmt.Sprintf("[[101.0, %d], [9.5, %d]]", ts, ts+10),
	} {
		code, body := get(fmt.Sprintf("/render?target=%s&from=%d&until=%d&format=json", target, ts-1, ts+10))
		if code != 200 || !strings.Contains(body, `"datapoints": `+want) {
			t.Errorf("render %s after the restart: %d %s, want %s", target, code, body, want)
		}
	}
	p.stop(t)
}
