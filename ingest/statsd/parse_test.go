package statsd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/internal/testenv"
)

var numberCases = []string{
	"1", "-1", "+3", "1e3", "1E3", "1e+3", "1e-3", "0x10", "0X1f", "0b101", "0o17", "-0x10", "+0x10",
	"1.", ".5", ".", "-.5", "1.5e", "e5", "", " ", " 5 ", "\t7\n", "5 5", "Infinity", "-Infinity", "+Infinity",
	"infinity", "inf", "NaN", "1e400", "-1e400", "1e-400", "0x", "0xg", "1_000", "0.1", "123456789012345678901234567890",
	"0xffffffffffffffffffff", "\u00a05", "5\u2028", "00012", "-0", "1e", "1e+", "--1", "+-1", "abc", "12abc", "0.0000001",
}

// TestJSNumberNode checks jsIsNumber against JavaScript's isNaN/Number.
func TestJSNumberNode(t *testing.T) {
	node := testenv.Command(t, "node", "apt nodejs")
	js, _ := json.Marshal(numberCases)
	out, err := exec.Command(node, "-e", `const a=`+string(js)+`;
process.stdout.write(JSON.stringify(a.map(s => { const ok = Boolean(s && !isNaN(s)); return ok ? String(Number(s)) : null })))`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []*string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range numberCases {
		v, ok := jsIsNumber([]byte(s))
		switch {
		case want[i] == nil && ok:
			t.Errorf("%q: got %v, JavaScript rejects it", s, v)
		case want[i] != nil && !ok:
			t.Errorf("%q: rejected, JavaScript gives %s", s, *want[i])
		case want[i] != nil && jsNumberString(v) != *want[i]:
			t.Errorf("%q: got %s, JavaScript gives %s", s, jsNumberString(v), *want[i])
		}
	}
}

func TestAppendJSNumber(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1.1, "1.1"}, {0.06666666666666667, "0.06666666666666667"}, {math.Inf(1), "Infinity"}, {math.NaN(), "NaN"},
		{1e21, "1e+21"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"}, {1e-6, "0.000001"}, {123456789012345680000, "123456789012345680000"},
		{-2.5e300, "-2.5e+300"}, {math.Copysign(0, -1), "0"}, {100, "100"}, {-0.3, "-0.3"},
	} {
		if got := jsNumberString(c.f); got != c.want {
			t.Errorf("%v: got %s want %s", c.f, got, c.want)
		}
	}
}

func TestSanitizeAndTags(t *testing.T) {
	cfg := DefaultConfig()
	l := NewLoop(&cfg)
	for _, c := range []struct{ name, tags, want string }{
		{"a.b", "", "a.b"},
		{"fo/o bar+baz", "", "fo-o_barbaz"},
		{"x  y\t", "", "x_y_"},
		{"été", "", "t"},
		{"a\u00a0\u2003b", "", "a_b"},
		{"a \xff b", "", "a__b"},
		{"tg", "host:a,env:prod", "tg;env=prod;host=a"},
		{"tg;z=1", "a:2", "tg;a=2;z=1"},
		{"tg", "a:1,,b:2", "tg;a=1;b=2"},
		{"tg", "k.b:1,k:2", "tg;k=2;k.b=1"},
		{"foo+bar", "tag1:val;1", "foobar;tag1=val_1"},
		{"m", "flag,a:", "m"},
		{"m;=1;b=", "c:", "m"},
	} {
		if got := string(l.buildKey([]byte(c.name), []byte(c.tags))); got != c.want {
			t.Errorf("buildKey(%q, %q) = %q, want %q", c.name, c.tags, got, c.want)
		}
	}
}

// FuzzParse feeds arbitrary packets through a Loop and a flush and checks
// the bookkeeping and the output names.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a:1|c", "a:1|c|@0.1\nb:2|ms\n\nc:3|g\nd:x|s", "k:1|c:2|c:3|ms", "p:1:2:3|ms", "tg:1|c|#env:prod,host:a",
		"g:+5|g\ng:-3|g", "x:1|c|@0", "été:1|c", "a:0x10|c", "a: |c", "a:1|c|@+1", ":1|c", "a;b=1:1|c|#c:2|#d:3",
		"nocolon\na:xyz|c\nb:1\nd:1|c|@abc\nf:1|c|0.1\ni:|c\nj:1|g|@-1\nc:-1|ms", "h:5|h", "s:|s\ns:\xff|s",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > 1<<16 {
			return
		}
		cfg := DefaultConfig()
		l := NewLoop(&cfg)
		l.HandlePacket(p)
		l.HandlePacket(p)
		lines := 0
		for _, ln := range bytes.Split(p, []byte("\n")) {
			if len(ln) > 0 {
				lines++
			}
		}
		s := l.Swap()
		if s.packets != 2 || s.metrics != float64(2*lines) {
			t.Fatalf("packets %v metrics %v, want 2 and %d", s.packets, s.metrics, 2*lines)
		}
		if s.bad > float64(2*(bytes.Count(p, []byte(":"))+lines)) {
			t.Fatalf("bad %v too large", s.bad)
		}
		fl, err := NewFlusher(cfg, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		fl.Flush([]*Snapshot{s}, time.Unix(10, 0), ingest.SinkFunc(func(name []byte, ts int64, v float64) {
			for _, c := range name {
				if !allowed[c] && c != ';' {
					t.Fatalf("output name %q has byte %q", name, c)
				}
			}
			parts := bytes.Split(name, []byte(";"))
			if len(parts[0]) == 0 {
				t.Fatalf("empty output name %q", name)
			}
			for _, tag := range parts[1:] {
				if i := bytes.IndexByte(tag, '='); i <= 0 || i == len(tag)-1 {
					t.Fatalf("output name %q has tag %q without name=value", name, tag)
				}
			}
			names = append(names, string(name))
		}))
		if len(names) < 11 {
			t.Fatalf("only %d points", len(names))
		}
		// The recycled snapshot must come back empty.
		s2 := l.Swap()
		if s2.packets != 0 || s2.counters.len() != 0 || s2.timers.len() != 0 || s2.gauges.len() != 0 || s2.sets.len() != 0 {
			t.Fatal("recycled snapshot not empty")
		}
	})
}

func benchPacket(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "app.requests.count.%d:1|c", i)
		case 1:
			fmt.Fprintf(&b, "app.latency.%d:%d|ms|@0.5", i, 100+i)
		case 2:
			fmt.Fprintf(&b, "app.queue.depth.%d:%d|g", i, i)
		case 3:
			fmt.Fprintf(&b, "app.errors.%d:2|c", i)
		}
	}
	return []byte(b.String())
}

func BenchmarkFlush100kTimers(b *testing.B) {
	cfg := DefaultConfig()
	l := NewLoop(&cfg)
	fl, _ := NewFlusher(cfg, time.Unix(0, 0))
	names := make([][]byte, 100_000)
	for i := range names {
		names[i] = []byte("svc.endpoint" + strconv.Itoa(i) + ".latency:")
	}
	fill := func() {
		var p []byte
		for i, n := range names {
			for j := 0; j < 10; j++ {
				p = append(p[:0], n...)
				p = strconv.AppendInt(p, int64((i*7+j*13)%1000), 10)
				p = append(p, "|ms"...)
				l.HandlePacket(p)
			}
		}
	}
	points := 0
	sink := ingest.SinkFunc(func([]byte, int64, float64) { points++ })
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fill()
		s := l.Swap()
		b.StartTimer()
		fl.Flush([]*Snapshot{s}, time.Unix(int64(10*(i+1)), 0), sink)
	}
	b.ReportMetric(float64(points)/float64(b.N), "points/flush")
}

// FuzzFastDecimal checks the fast decimal path against strconv.ParseFloat.
func FuzzFastDecimal(f *testing.F) {
	for _, s := range []string{"0.1", "-12.5", "+3", "123456789012345", "1.000000000000001", ".5", "5.", "0.3", "9007199254740993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := fastDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q: fast path accepted, ParseFloat: %v", s, err)
		}
		if v != want || math.Signbit(v) != math.Signbit(want) {
			t.Fatalf("%q: fast path %v, ParseFloat %v", s, v, want)
		}
	})
}

func TestMaxKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxKeys = 3
	l := NewLoop(&cfg)
	l.HandlePacket([]byte("a:1|c\nb:1|ms\nc:1|g\nd:1|s\ne:1|c\na:2|c"))
	fl, err := NewFlusher(cfg, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	sink := ingest.SinkFunc(func(name []byte, _ int64, v float64) { got[string(name)] = v })
	fl.Flush([]*Snapshot{l.Swap()}, time.Unix(10, 0), sink)
	if got["stats_counts.a"] != 3 || got["stats.timers.b.count"] != 1 || got["stats.gauges.c"] != 1 {
		t.Errorf("kept names: a=%v b=%v c=%v", got["stats_counts.a"], got["stats.timers.b.count"], got["stats.gauges.c"])
	}
	for _, n := range []string{"stats.sets.d.count", "stats_counts.e"} {
		if _, ok := got[n]; ok {
			t.Errorf("%s flushed beyond MaxKeys", n)
		}
	}
	if tot := fl.Totals(); tot.Dropped != 2 || tot.BadLines != 0 || tot.Metrics != 6 {
		t.Errorf("totals %+v, want 2 dropped, 0 bad, 6 metrics", tot)
	}
	// The limit is per interval: the next interval starts afresh.
	l.HandlePacket([]byte("e:1|c"))
	got = map[string]float64{}
	fl.Flush([]*Snapshot{l.Swap()}, time.Unix(20, 0), sink)
	if got["stats_counts.e"] != 1 {
		t.Errorf("e in the next interval = %v", got["stats_counts.e"])
	}
}

// FuzzPacketOnePass: a packet read in one pass (its lines' ends found by
// the scans of names and values) aggregates exactly as its lines sent one
// per packet.
func FuzzPacketOnePass(f *testing.F) {
	for _, s := range []string{
		"a:1|c\nb:2|ms|@0.5\n\nc:3|g\nd:x|s", "k:1|c:2|c:3|ms\nnocolon\n:1|c\n", "a:1|c|@0.1|x\nb\n", "x:|c\n\n\ny:1|", "é\xff:1|c\nq:+1|g\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > 1<<16 || bytes.IndexByte(p, '#') >= 0 {
			return
		}
		cfg := DefaultConfig()
		whole, split := NewLoop(&cfg), NewLoop(&cfg)
		whole.HandlePacket(p)
		for _, ln := range bytes.Split(p, []byte("\n")) {
			split.HandlePacket(ln)
		}
		if a, b := dumpSnapshot(whole.Swap()), dumpSnapshot(split.Swap()); a != b {
			t.Fatalf("%q\none pass:\n%s\nline by line:\n%s", p, a, b)
		}
	})
}

func dumpSnapshot(s *Snapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "metrics %v bad %v\n", s.metrics, s.bad)
	s.counters.eachLive(func(e *entry[float64]) { fmt.Fprintf(&b, "c %q %v\n", e.name, e.v) })
	s.timers.eachLive(func(e *entry[timerVal]) { fmt.Fprintf(&b, "ms %q %v %v\n", e.name, e.v.count, e.v.vals) })
	s.gauges.eachLive(func(e *entry[gaugeVal]) { fmt.Fprintf(&b, "g %q %v\n", e.name, e.v) })
	s.sets.eachLive(func(e *entry[map[string]struct{}]) {
		keys := slices.Sorted(maps.Keys(e.v))
		fmt.Fprintf(&b, "s %q %q\n", e.name, keys)
	})
	return b.String()
}

// FuzzFastValue: the fast path for small integers (fastValue) aggregates
// every packet exactly as the general path does.
func FuzzFastValue(f *testing.F) {
	for _, s := range []string{
		"a:1|c\nb:22|ms\nc:333|g\nd:4|h\ne:5|s", "a:1|cx\nb:2|ms|@0.5\nc:3|g:4|c\nd:012|c", "a:999999999999999|c\nb:9999999999999999|c",
		"a:1|m\nb:1|\nc:|c\nd:1|c\r\ne:1|c ", "t:1|c|#k:v\nt:2|g\n", "g:+1|g\ng:2|g\ng:-1|g",
		// keys made from tags, then sent as tagless names (hitLines'
		// search for ':' alone finds them in the tables)
		"t:1|c|#k:v\nt;k=v:2|c\nt;k=v:3|c", "t:1|c|#z:1,a:2\nt;a=2;z=1:2|c\nt;z=1;a=2:4|c\n",
		"t:1|c|#k:v:w\nt;k=v:w:2|c\nt/x:1|c\nt-x:2|c\nt x:3|c\nt_x:4|c\n", "a*b:1|c\nab:2|c\nab:3|c\x1aab:1|c",
		"a:1|c|#k:;x\na;k=:2|c\na:3|c", "a:1|c\na:2|c\nb/x:1|c\na:3|c\nb-x:2|c\nc:1|s\na:4|c\n\na:5|c",
		// a "name" running past its line's end to the next line's ':'
		"a:1|c\nb:1|c\na\nb:2|c\nb\na:3|c\na", "x:1|g\nx:2|g\ny\n\nx:3|g\nx",
		// sets: members as sent (leading zeros kept), 15 and 16 digits
		"s:007|s\ns:7|s\ns:007|s\ns:123456789012345|s\ns:1234567890123456|s\ns:1|s|@0.5\ns:1 |s\ns:2|s ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if len(p) > 1<<16 {
			return
		}
		for _, sanitize := range []bool{true, false} {
			cfg := DefaultConfig()
			cfg.MaxKeys = 8
			cfg.KeyNameSanitize = sanitize
			fast, slow := NewLoop(&cfg), NewLoop(&cfg)
			slow.slowOnly = true
			fast.HandlePacket(p)
			slow.HandlePacket(p)
			// twice: the second time the names are live (hitLines' case)
			fast.HandlePacket(p)
			slow.HandlePacket(p)
			sf, ss := fast.Swap(), slow.Swap()
			if a, b := dumpSnapshot(sf), dumpSnapshot(ss); a != b || sf.dropped != ss.dropped {
				t.Fatalf("sanitize %v %q\nfast:\n%s dropped %v\nslow:\n%s dropped %v", sanitize, p, a, sf.dropped, b, ss.dropped)
			}
		}
	})
}

// TestHitLinesHits: a packet whose names are all live is applied by
// hitLines alone (FuzzFastValue cannot tell: a line hitLines misses gives
// the same result through handleLine): names of 1 to 40 bytes at the
// packet's start or after a line of 6 to 13 bytes, in lines of every type
// hitLines takes.
func TestHitLinesHits(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for pre := 0; pre <= 8; pre++ {
			name := strings.Repeat("abcdefghij", 4)[:n]
			prefix := ""
			if pre > 0 {
				prefix = strings.Repeat("y", pre) + ":1|c\n"
			}
			p := []byte(prefix + name + ":3|c\n" + name + ":4|g\n" + name + ":5|ms\n" + name + ":6|s\n" + name + ":7|h")
			cfg := DefaultConfig()
			l := NewLoop(&cfg)
			l.HandlePacket(p) // the names become live
			s := l.cur
			if end := l.hitLines(s, p); end < len(p) {
				t.Fatalf("%q: hitLines stopped at %d of %d", p, end, len(p))
			}
			c, _ := s.counters.find(name)
			g, _ := s.gauges.find(name)
			tm, _ := s.timers.find(name)
			set, _ := s.sets.find(name)
			if c == nil || *c != 6 || g == nil || g.val != 4 || tm == nil || tm.count != 4 || set == nil || len(*set) != 1 || s.metrics != 10+2*float64(min(pre, 1)) {
				t.Fatalf("%q: counter %v gauge %v timer %v set %v metrics %v", p, c, g, tm, set, s.metrics)
			}
		}
	}
}

// TestNameScanWords: handleLine reads a name eight bytes a step until a
// byte the sanitiser changes, a ':' or a '\n'; each of those at every
// position of names up to 40 bytes gives the key and counts of a byte-wise
// scan (a '/' becomes '-', a space '_').
func TestNameScanWords(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for pos := -1; pos < n; pos++ {
			for _, bad := range []byte{'/', ' '} {
				name := []byte(strings.Repeat("a", n))
				want := strings.Repeat("a", n)
				if pos >= 0 {
					name[pos] = bad
					want = want[:pos] + map[byte]string{'/': "-", ' ': "_"}[bad] + want[pos+1:]
				}
				cfg := DefaultConfig()
				l := NewLoop(&cfg)
				l.HandlePacket(append(append([]byte(nil), name...), ":3|c\n"+string(name)+"\n"+string(name)+":4|c"...))
				got := dumpSnapshot(l.Swap())
				if exp := fmt.Sprintf("metrics 3 bad 1\nc %q 7\n", want); got != exp {
					t.Fatalf("name %q: got\n%s\nwant\n%s", name, got, exp)
				}
			}
		}
	}
}

func TestFastValue(t *testing.T) {
	cfg := DefaultConfig()
	l := NewLoop(&cfg)
	l.HandlePacket([]byte("a:1|c\na:41|c\nb:7|g\nb:9|g\nm:5|ms\nm:0|ms\nh:3|h\nx:12|cx\ny:1|c|@0.5")) // an unknown type ("cx") is a counter, as in etsy
	got := dumpSnapshot(l.Swap())
	want := "metrics 9 bad 0\nc \"a\" 42\nc \"x\" 12\nc \"y\" 2\nms \"m\" 2 [5 0]\nms \"h\" 1 [3]\ng \"b\" {true 9 []}\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
