package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUPReloadsUnderLoad streams points over one TCP connection while
// the rewrite rules change and SIGHUP arrives: the connection stays up, no
// point is lost, the new rule applies to the points after the reload, and a
// reload that fails keeps the rules in force.
func TestSIGHUPReloadsUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	rw := filepath.Join(dir, "rewrite-rules.conf")
	write := func(p, body string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(rw, "[pre]\n^a\\. = b.\n")
	schemas := filepath.Join(dir, "schemas.conf")
	write(schemas, "[all]\npattern = .*\nretentions = 1s:3h\n")
	p := startPlumbago(t, bin, "--data-dir", dir, "--rewrite-rules", rw, "--schemas", schemas)
	defer p.stop(t)
	conn, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	const half = 3000
	base := time.Now().Unix() - 2*half - 60
	send := func(from int) {
		t.Helper()
		for i := from; i < from+half; i++ {
			fmt.Fprintf(w, "a.x %d %d\n", i, base+int64(i))
			if i%100 == 99 {
				if err := w.Flush(); err != nil {
					t.Fatalf("connection dropped at point %d: %v", i, err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	send(0)
	p.waitFor(t, "the first half", func() bool { return p.metric(t, "plumbago_points_received_total") >= half })
	write(rw, "[pre]\n^a\\. = c.\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the reload", func() bool { return strings.Contains(p.log.String(), "reloaded rewrite rules") })
	send(half) // the same connection
	p.waitFor(t, "every point committed", func() bool { return p.metric(t, "plumbago_points_committed_total") >= 2*half })
	count := func(target string) int {
		t.Helper()
		return valueCount(getOneSeries(t, fmt.Sprintf("http://%s/render?noCache=1&target=%s&from=%d&until=%d&format=json", p.http, target, base-1, base+2*half)))
	}
	if b, c := count("b.x"), count("c.x"); b != half || c != half {
		t.Fatalf("b.x has %d points, c.x %d; want %d each (old rule before, new rule after)", b, c, half)
	}
	// A reload that fails keeps the rules in force.
	if err := os.Remove(rw); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "the failed reload", func() bool { return strings.Contains(p.log.String(), "keeping the old") })
	fmt.Fprintf(w, "a.y 1 %d\n", base+10)
	w.Flush()
	p.waitFor(t, "a.y", func() bool { return strings.Contains(readAll(t, "http://"+p.http+"/metrics/find?query=c.*"), "c.y") })
}
