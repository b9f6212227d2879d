package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Helpers the end-to-end tests share: files, carbon lines, HTTP requests,
// polling, and running a test against each storage backend.

// eachBackend runs f as a subtest for each storage backend with the built
// binary.
func eachBackend(t *testing.T, f func(t *testing.T, bin, backend string)) {
	bin := buildBinary(t)
	for _, backend := range []string{"pebble", "whisper"} {
		t.Run(backend, func(t *testing.T) { f(t, bin, backend) })
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sendCarbon sends lines to a carbon plaintext TCP listener on one
// connection and closes it.
func sendCarbon(t *testing.T, addr string, lines ...string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		fmt.Fprintln(c, l)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// httpDo makes one request, changed by each of set (credentials, content
// type), and returns the status and the whole body.
func httpDo(t *testing.T, method, u, body string, set ...func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range set {
		f(req)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return r.StatusCode, string(b)
}

// asForm marks a request body as an HTML form.
func asForm(r *http.Request) {
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
}

// basicAuth sends user's credentials; an empty user sends none.
func basicAuth(user, pass string) func(*http.Request) {
	return func(r *http.Request) {
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
	}
}

// readAll returns the body of a GET of url, whatever its status.
func readAll(t *testing.T, url string) string {
	t.Helper()
	_, body := httpDo(t, "GET", url, "")
	return body
}

// renderedSeries is one series of a JSON /render answer.
type renderedSeries struct {
	Target     string        `json:"target"`
	Datapoints [][2]*float64 `json:"datapoints"`
}

// getSeries GETs a JSON /render url and returns its series; it fails the
// test when the answer is not a JSON list of series.
func getSeries(t *testing.T, url string) []renderedSeries {
	t.Helper()
	body := readAll(t, url)
	var out []renderedSeries
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("render %s: %v: %.300s", url, err, body)
	}
	return out
}

// getOneSeries is getSeries for an answer that must hold one series.
func getOneSeries(t *testing.T, url string) renderedSeries {
	t.Helper()
	out := getSeries(t, url)
	if len(out) != 1 {
		t.Fatalf("render %s: %d series; want 1: %+v", url, len(out), out)
	}
	return out[0]
}

// valueCount is how many of s's datapoints have a value (not null).
func valueCount(s renderedSeries) int {
	n := 0
	for _, dp := range s.Datapoints {
		if dp[0] != nil {
			n++
		}
	}
	return n
}

// postAdmin posts form to an admin endpoint and returns the status and the
// body without surrounding white space.
func postAdmin(t *testing.T, addr, path string, form url.Values) (int, string) {
	t.Helper()
	code, body := httpDo(t, "POST", "http://"+addr+path, form.Encode(), asForm)
	return code, strings.TrimSpace(body)
}

// waitFor polls cond until it holds (30 s).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// startListening starts an external daemon, kills it when the test ends,
// and returns a connection to addr once the daemon accepts there (within
// the given time), with the log of its output.
func startListening(t *testing.T, cmd *exec.Cmd, addr string, within time.Duration) (net.Conn, *procLog) {
	t.Helper()
	log := &procLog{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var err error
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err == nil {
			return c, log
		}
	}
	t.Fatalf("%s did not listen on %s: %v\n%s", filepath.Base(cmd.Path), addr, err, log)
	return nil, nil
}
