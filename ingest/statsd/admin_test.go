package statsd

import (
	"bufio"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
)

// adminCmd sends one command in one write and reads the reply until it ends
// with want's length or the connection closes.
func adminCmd(t *testing.T, srv *testServer, cmd string, wantLen int) string {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.adminPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(cmd)); err != nil {
		t.Fatal(err)
	}
	return readReply(t, c, wantLen)
}

func readReply(t *testing.T, c net.Conn, wantLen int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil || (wantLen > 0 && len(got) >= wantLen) {
			break
		}
		if wantLen < 0 && strings.HasSuffix(string(got), "END\n\n") {
			break
		}
	}
	return string(got)
}

func sendUDP(t *testing.T, srv *testServer, packets ...string) {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.udpPort})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := srv.packets.Load()
	for _, p := range packets {
		if _, err := conn.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	srv.waitPackets(t, n+int64(len(packets)))
}

func TestAdmin(t *testing.T) {
	srv := startTestServer(t, DefaultConfig(), 2)
	exact := func(cmd, want string) {
		t.Helper()
		if got := adminCmd(t, srv, cmd, len(want)); got != want {
			t.Errorf("%q:\n got %q\nwant %q", cmd, got, want)
		}
	}

	t.Run("41 help", func(t *testing.T) {
		exact("help", "Commands: stats, counters, timers, gauges, sets, delcounters, deltimers, delgauges, delsets, health, config, quit\n\n")
		exact("  help\r\n", "Commands: stats, counters, timers, gauges, sets, delcounters, deltimers, delgauges, delsets, health, config, quit\n\n")
	})

	t.Run("42 stats", func(t *testing.T) {
		srv.reset(t, DefaultConfig(), t0)
		srv.cfgMu.Lock()
		srv.admin.now = func() time.Time { return t0.Add(25 * time.Second) }
		srv.cfgMu.Unlock()
		sendUDP(t, srv, "nocolon\na:xyz|c\nb:1\nd:1|c|@abc\nf:1|c|0.1\ni:|c\nj:1|g|@-1\nc:-1|ms")
		got := adminCmd(t, srv, "stats", -1)
		re := regexp.MustCompile(`^uptime: 25\nmessages\.last_msg_seen: -?\d+\nmessages\.bad_lines_seen: 8\n` +
			`graphite\.last_flush: 25\ngraphite\.last_exception: 1700000025\ngraphite\.flush_time: 0\n` +
			`graphite\.flush_length: 0\nEND\n\n$`)
		if !re.MatchString(got) {
			t.Errorf("stats before flush:\n%q", got)
		}
		out := srv.flush(t0.Add(10 * time.Second))
		if out.vals["stats_counts.statsd.bad_lines_seen"] != 8 {
			t.Errorf("bad_lines_seen %v", out.vals["stats_counts.statsd.bad_lines_seen"])
		}
		got = adminCmd(t, srv, "stats", -1)
		want := "messages.bad_lines_seen: 8\n"
		if !strings.Contains(got, want) || !strings.Contains(got, "graphite.flush_length: "+strconv.Itoa(len(out.text()))+"\n") {
			t.Errorf("stats after flush (payload %d bytes):\n%q", len(out.text()), got)
		}
	})

	t.Run("43 timers gauges counters", func(t *testing.T) {
		srv.reset(t, DefaultConfig(), t0)
		exact("timers", "{}\nEND\n\n")
		sendUDP(t, srv, "t:5|ms\nt:7|ms\ng:4|g\na:1|c|@0.5")
		exact("timers", "{ t: [ 5, 7 ] }\nEND\n\n")
		exact("gauges", "{ g: 4 }\nEND\n\n")
		exact("counters", "{\n  'statsd.bad_lines_seen': 0,\n  'statsd.packets_received': 1,\n  'statsd.metrics_received': 4,\n  a: 2\n}\nEND\n\n")
		exact("sets", "{}\nEND\n\n")
		sendUDP(t, srv, "s:b|s\ns:a|s")
		exact("sets", "{ s: [ 'a', 'b' ] }\nEND\n\n")
		srv.flush(t0.Add(10 * time.Second))
		exact("timers", "{ t: [] }\nEND\n\n")
		exact("gauges", "{ g: 4 }\nEND\n\n")
	})

	t.Run("44 delcounters", func(t *testing.T) {
		srv.reset(t, DefaultConfig(), t0)
		sendUDP(t, srv, "a:1|c\nfoo.x:1|c\nfoo.y:1|c\nkeep:1|c")
		exact("delcounters a nosuch", "deleted: a\nmetric nosuch not found\nEND\n\n")
		exact("delcounters foo.*", "deleted: foo.x\ndeleted: foo.y\nEND\n\n")
		exact("delcounters", "END\n\n")
		out := srv.flush(t0.Add(10 * time.Second))
		for _, n := range []string{"stats_counts.a", "stats_counts.foo.x", "stats_counts.foo.y", "stats.a"} {
			if _, ok := out.vals[n]; ok {
				t.Errorf("deleted counter flushed: %s", n)
			}
		}
		if out.vals["stats_counts.keep"] != 1 {
			t.Errorf("keep = %v", out.vals["stats_counts.keep"])
		}
		sendUDP(t, srv, "t:1|ms\ng:1|g\ns:1|s")
		exact("deltimers t", "deleted: t\nEND\n\n")
		exact("delgauges g", "deleted: g\nEND\n\n")
		exact("delsets s", "deleted: s\nEND\n\n")
		out = srv.flush(t0.Add(20 * time.Second))
		for _, n := range []string{"stats.timers.t.count", "stats.gauges.g", "stats.sets.s.count"} {
			if _, ok := out.vals[n]; ok {
				t.Errorf("deleted metric flushed: %s", n)
			}
		}
	})

	t.Run("45 health", func(t *testing.T) {
		exact("health", "health: up\n")
		exact("health down", "health: down\n")
		exact("health", "health: down\n")
		exact("health foo", "health: down\n")
		exact("health UP", "health: up\n")
	})

	t.Run("46 errors and quit", func(t *testing.T) {
		exact("bogus", "ERROR\n")
		exact("stats\ncounters", "ERROR\n")
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.adminPort))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("help"))
		readReply(t, c, len(helpText))
		c.Write([]byte("quit"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if n, err := c.Read(make([]byte, 10)); err != io.EOF {
			t.Errorf("after quit: read %d, %v; want EOF", n, err)
		}
	})

	t.Run("47 config", func(t *testing.T) {
		c, _ := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.adminPort))
		defer c.Close()
		c.Write([]byte("config"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		var got string
		r := bufio.NewReader(c)
		for !strings.Contains(got, "graphite > globalSuffix: ") {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("config: %v after %q", err, got)
			}
			got += line
		}
		for _, want := range []string{"flushInterval: 10000\n", "percentThreshold > 0: 90\n", "deleteIdleStats: false\n",
			"gaugesMaxTTL: 1\n", "graphite > legacyNamespace: true\n", "prefixStats: statsd\n"} {
			if !strings.Contains(got, want) {
				t.Errorf("config lacks %q:\n%s", want, got)
			}
		}
		if !strings.HasPrefix(got, "\nflushInterval: ") {
			t.Errorf("config starts %q", got[:min(20, len(got))])
		}
	})
}

// TestInspectNode compares the util.inspect re-implementation with Node.
func TestInspectNode(t *testing.T) {
	node := testenv.Command(t, "node", "apt nodejs")
	cases := []struct {
		keys []string
		vals [][]float64
	}{
		{[]string{"t"}, [][]float64{{5, 7}}},
		{[]string{"t"}, [][]float64{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}},
		{[]string{"t", "x.y"}, [][]float64{{1, 22, 333, 4444, 5, 6, 7}, {0.5, 1e-7, 1e21, 123456.789}}},
		{[]string{"long.timer.name.one", "long.timer.name.two"}, [][]float64{{1, 2, 3}, {4, 5, 6}}},
		{[]string{"many"}, func() [][]float64 {
			v := make([]float64, 130)
			for i := range v {
				v[i] = float64(i * i % 97)
			}
			return [][]float64{v}
		}()},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, [][]float64{{1}, {2}, {3}, {}, {5}, {6}, {7}}},
		// Array-index names come first in numeric order, as in any
		// JavaScript object; other numeric-looking names keep their place.
		{[]string{"b", "10", "a", "2", "01", "4294967295", "4294967294", "-1", "1.5", "0", "9007199254740993"},
			[][]float64{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}}},
	}
	for _, tc := range cases {
		var js []string
		var vals []string
		for i, k := range tc.keys {
			var el, jsel []string
			for _, v := range tc.vals[i] {
				el = append(el, inspectNumber(v))
				jsel = append(jsel, jsNumberString(v))
			}
			js = append(js, strconv.Quote(k)+":["+strings.Join(jsel, ",")+"]")
			vals = append(vals, inspectArray(el, 2, true))
		}
		got := inspectObject(tc.keys, vals)
		out, err := exec.Command(node, "-e", "process.stdout.write(require('util').inspect({"+strings.Join(js, ",")+"}))").Output()
		if err != nil {
			t.Fatal(err)
		}
		if got != string(out) {
			t.Errorf("keys %v:\n got %q\nnode %q", tc.keys, got, out)
		}
	}
}

// TestAdminOnLoop is the console as served from an event loop without an
// async writer: it must not call the LoopRunner and shows the last flush.
func TestAdminOnLoop(t *testing.T) {
	cfg := DefaultConfig()
	f, err := NewFlusher(cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAdmin(f, func(func(*Loop)) { t.Fatal("LoopRunner called from an event loop") })
	l := NewLoop(&cfg)
	l.HandlePacket([]byte("g:4|g\nt:5|ms\na:1|c"))
	f.Flush([]*Snapshot{l.Swap()}, t0.Add(10*time.Second), ingestDiscard{})
	l.HandlePacket([]byte("g:+1|g\nt:7|ms"))
	for _, c := range [][2]string{
		{"gauges", "{ g: 4 }\nEND\n\n"},
		{"timers", "{ t: [] }\nEND\n\n"},
		{"counters", "{\n  'statsd.bad_lines_seen': 0,\n  'statsd.packets_received': 0,\n  'statsd.metrics_received': 0,\n  a: 0\n}\nEND\n\n"},
		{"delgauges g", "deleted: g\nEND\n\n"},
		{"gauges", "{}\nEND\n\n"},
		{"help", helpText},
	} {
		cmd, want := c[0], c[1]
		var out strings.Builder
		a.handle([]byte(cmd), &out, false)
		if out.String() != want {
			t.Errorf("%s: got %q want %q", cmd, out.String(), want)
		}
	}
	al := &adminLoop{a}
	if n, quit := al.Stream(nil, []byte("quit")); n != 4 || !quit {
		t.Errorf("quit: consumed %d, close %v", n, quit)
	}
}

type ingestDiscard struct{}

func (ingestDiscard) AddPoint([]byte, int64, float64) {}
