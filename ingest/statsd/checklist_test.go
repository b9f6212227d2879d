package statsd

import (
	"math"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// step sends UDP packets (each string one datagram, all from one client
// socket) or TCP writes, then flushes and checks the output.
type step struct {
	udp    []string
	tcp    []string // written on one connection that is then closed
	want   map[string]float64
	absent []string
}

type checkCase struct {
	name  string
	cfg   func(c *Config)
	steps []step
}

func b(v bool) *bool { return &v }

var t0 = time.Unix(1_700_000_000, 0)

// checklist holds every case of section 5 of the statsd reference (numbers
// in the names), over the real UDP/TCP path.
var checklist = []checkCase{
	{name: "01 counter sample rate", steps: []step{{udp: []string{"a:1|c\na:1|c|@0.1"},
		want: map[string]float64{"stats.a": 1.1, "stats_counts.a": 11}}}},
	{name: "01 counter sample rate new namespace", cfg: func(c *Config) { c.Graphite.LegacyNamespace = false },
		steps: []step{{udp: []string{"a:1|c\na:1|c|@0.1"},
			want: map[string]float64{"stats.counters.a.rate": 1.1, "stats.counters.a.count": 11}}}},
	{name: "02 idle counter", steps: []step{
		{udp: []string{"a:1|c"}, want: map[string]float64{"stats_counts.a": 1}},
		{want: map[string]float64{"stats.a": 0, "stats_counts.a": 0}}}},
	{name: "03 deleteIdleStats", cfg: func(c *Config) { c.DeleteIdleStats = true }, steps: []step{
		{udp: []string{"a:1|c"}, want: map[string]float64{"stats_counts.a": 1}},
		{want: map[string]float64{"stats_counts.statsd.packets_received": 0}, absent: []string{"stats.a", "stats_counts.a"}}}},
	{name: "03 deleteCounters", cfg: func(c *Config) { c.DeleteCounters = b(true) }, steps: []step{
		{udp: []string{"a:1|c"}, want: map[string]float64{"stats_counts.a": 1}},
		{want: map[string]float64{"stats_counts.statsd.packets_received": 0, "stats_counts.statsd.bad_lines_seen": 0}, absent: []string{"stats.a", "stats_counts.a"}}}},
	{name: "04 counter values", steps: []step{{udp: []string{"l:-3|c", "k:+3|c", "m:1e3|c", "n:0x10|c"},
		want: map[string]float64{"stats.l": -0.3, "stats_counts.l": -3, "stats_counts.k": 3, "stats_counts.m": 1000, "stats_counts.n": 16}}}},
	{name: "05 rate above 1, rate 0 rejected", steps: []step{{udp: []string{"b:1|c|@1.5", "a:1|c|@0"},
		want:   map[string]float64{"stats_counts.b": 0.6666666666666666, "stats_counts.statsd.bad_lines_seen": 1},
		absent: []string{"stats_counts.a", "stats.a"}}}},
	{name: "06 flush_counts false", cfg: func(c *Config) { c.FlushCounts = false }, steps: []step{{udp: []string{"a:2|c"},
		want: map[string]float64{"stats.a": 0.2}, absent: []string{"stats_counts.a", "stats_counts.statsd.packets_received"}}}},
	{name: "06 flush_counts false new namespace", cfg: func(c *Config) { c.FlushCounts = false; c.Graphite.LegacyNamespace = false },
		steps: []step{{udp: []string{"a:2|c"}, want: map[string]float64{"stats.counters.a.rate": 0.2}, absent: []string{"stats.counters.a.count"}}}},
	{name: "07 internal counters", steps: []step{{udp: []string{"x:1|c\ny:1|c"},
		want: map[string]float64{"stats_counts.statsd.packets_received": 1, "stats_counts.statsd.metrics_received": 2,
			"stats.statsd.packets_received": 0.1, "stats_counts.x": 1, "stats_counts.y": 1}}}},
	{name: "08 timer", steps: []step{{udp: []string{timer1to10},
		want: map[string]float64{"stats.timers.t.count_90": 9, "stats.timers.t.mean_90": 5, "stats.timers.t.upper_90": 9,
			"stats.timers.t.sum_90": 45, "stats.timers.t.sum_squares_90": 285, "stats.timers.t.std": 2.8722813232690143,
			"stats.timers.t.upper": 10, "stats.timers.t.lower": 1, "stats.timers.t.count": 10, "stats.timers.t.count_ps": 1,
			"stats.timers.t.sum": 55, "stats.timers.t.sum_squares": 385, "stats.timers.t.mean": 5.5, "stats.timers.t.median": 5.5}}}},
	{name: "09 threshold list", cfg: func(c *Config) { c.PercentThreshold = []float64{-10, 99.9, 50, 10} },
		steps: []step{{udp: []string{timer1to10},
			want: map[string]float64{"stats.timers.t.count_top10": 1, "stats.timers.t.mean_top10": 10, "stats.timers.t.lower_top10": 10,
				"stats.timers.t.sum_top10": 10, "stats.timers.t.sum_squares_top10": 100, "stats.timers.t.count_99_9": 10,
				"stats.timers.t.upper_99_9": 10, "stats.timers.t.mean_99_9": 5.5, "stats.timers.t.upper_50": 5,
				"stats.timers.t.mean_50": 3, "stats.timers.t.sum_50": 15, "stats.timers.t.upper_10": 1},
			absent: []string{"stats.timers.t.upper_90"}}}},
	{name: "10 single value", steps: []step{{udp: []string{"u:100|ms"},
		want: map[string]float64{"stats.timers.u.count_90": 1, "stats.timers.u.mean_90": 100, "stats.timers.u.upper_90": 100,
			"stats.timers.u.sum_90": 100, "stats.timers.u.sum_squares_90": 10000, "stats.timers.u.std": 0,
			"stats.timers.u.count_ps": 0.1, "stats.timers.u.median": 100}}}},
	{name: "11 sampled timer", cfg: func(c *Config) { c.PercentThreshold = []float64{90, 10, -10, 50} },
		steps: []step{{udp: []string{"w:100|ms|@0.1\nw:200|ms|@0.5"},
			want: map[string]float64{"stats.timers.w.count": 12, "stats.timers.w.count_ps": 1.2, "stats.timers.w.sum": 300,
				"stats.timers.w.mean": 150, "stats.timers.w.median": 150, "stats.timers.w.std": 50,
				"stats.timers.w.upper_90": 200, "stats.timers.w.count_90": 2, "stats.timers.w.upper_50": 100},
			absent: []string{"stats.timers.w.upper_10", "stats.timers.w.count_10", "stats.timers.w.lower_top10", "stats.timers.w.count_top10"}}}},
	{name: "12 histogram", cfg: func(c *Config) { c.Histogram = []HistogramConfig{{Metric: "t", Bins: []any{int64(3), 7.5, "inf"}}} },
		steps: []step{{udp: []string{timer1to10},
			want: map[string]float64{"stats.timers.t.histogram.bin_3": 2, "stats.timers.t.histogram.bin_7_5": 5, "stats.timers.t.histogram.bin_inf": 3}}}},
	{name: "12 histogram without inf", cfg: func(c *Config) { c.Histogram = []HistogramConfig{{Metric: "t", Bins: []any{int64(3), 7.5}}} },
		steps: []step{{udp: []string{timer1to10},
			want:   map[string]float64{"stats.timers.t.histogram.bin_3": 2, "stats.timers.t.histogram.bin_7_5": 5},
			absent: []string{"stats.timers.t.histogram.bin_inf"}}}},
	{name: "13 histogram first match", cfg: func(c *Config) {
		c.Histogram = []HistogramConfig{{Metric: "foo", Bins: []any{}}, {Metric: "", Bins: []any{int64(50), "inf"}}}
	}, steps: []step{{udp: []string{"xfoo:10|ms\nbar:10|ms\nbar:60|ms"},
		want:   map[string]float64{"stats.timers.bar.histogram.bin_50": 1, "stats.timers.bar.histogram.bin_inf": 1, "stats.timers.xfoo.count": 1},
		absent: []string{"stats.timers.xfoo.histogram.bin_50", "stats.timers.xfoo.histogram.bin_inf"}}}},
	{name: "14 idle timer", steps: []step{{udp: []string{timer1to10}, want: map[string]float64{"stats.timers.t.count": 10}},
		{want: map[string]float64{"stats.timers.t.count": 0, "stats.timers.t.count_ps": 0},
			absent: []string{"stats.timers.t.mean", "stats.timers.t.upper", "stats.timers.t.lower", "stats.timers.t.std",
				"stats.timers.t.sum", "stats.timers.t.median", "stats.timers.t.count_90", "stats.timers.t.upper_90"}}}},
	{name: "15 negative timer", steps: []step{{udp: []string{"c:-1|ms"},
		want: map[string]float64{"stats_counts.statsd.bad_lines_seen": 1}, absent: []string{"stats.timers.c.count"}}}},
	{name: "16 calculatedTimerMetrics", cfg: func(c *Config) {
		c.CalculatedTimerMetrics = []string{"count", "upper_percent", "histogram"}
		c.PercentThreshold = []float64{95}
		c.Histogram = []HistogramConfig{{Metric: "", Bins: []any{int64(10), "inf"}}}
	}, steps: []step{{udp: []string{"t:5|ms\nt:50|ms"},
		want: map[string]float64{"stats.timers.t.upper_95": 50, "stats.timers.t.count": 2,
			"stats.timers.t.histogram.bin_10": 1, "stats.timers.t.histogram.bin_inf": 1},
		absent: []string{"stats.timers.t.mean_95", "stats.timers.t.count_95", "stats.timers.t.sum_95", "stats.timers.t.std",
			"stats.timers.t.upper", "stats.timers.t.count_ps", "stats.timers.t.mean", "stats.timers.t.median"}}}},
	{name: "17 top threshold covering all values (fixed)", cfg: func(c *Config) { c.PercentThreshold = []float64{-90} },
		steps: []step{{udp: []string{"t:1|ms\nt:2|ms"},
			want: map[string]float64{"stats.timers.t.mean_top90": 1.5, "stats.timers.t.sum_top90": 3, "stats.timers.t.lower_top90": 1,
				"stats.timers.t.count_top90": 2, "stats.timers.t.sum_squares_top90": 5}}}},
	{name: "18 gauge deltas", steps: []step{{udp: []string{"g:10|g", "g:+5|g", "g:-3|g"}, want: map[string]float64{"stats.gauges.g": 12}}}},
	{name: "19 delta on new gauge", steps: []step{{udp: []string{"h:-5|g\ns:+7|g"}, want: map[string]float64{"stats.gauges.h": -5, "stats.gauges.s": 7}}}},
	{name: "20 zero then negative", steps: []step{{udp: []string{"z:0|g", "z:-5|g"}, want: map[string]float64{"stats.gauges.z": -5}}}},
	{name: "21 gauge rate ignored, fractional delta", steps: []step{{udp: []string{"r:5|g|@0.1\nq:1.5|g\nq:+0.25|g"},
		want: map[string]float64{"stats.gauges.r": 5, "stats.gauges.q": 1.75}}}},
	{name: "22 idle gauge", steps: []step{{udp: []string{"g:10|g\ng:+2|g"}, want: map[string]float64{"stats.gauges.g": 12}},
		{want: map[string]float64{"stats.gauges.g": 12}}}},
	{name: "23 gauge TTL", cfg: func(c *Config) { c.DeleteGauges = b(true); c.GaugesMaxTTL = 2 }, steps: []step{
		{udp: []string{"g:10|g"}, want: map[string]float64{"stats.gauges.g": 10}},
		{want: map[string]float64{"stats.gauges.g": 10}},
		{absent: []string{"stats.gauges.g"}, want: map[string]float64{"stats.gauges.statsd.timestamp_lag": 0}},
		{udp: []string{"g:+5|g"}, want: map[string]float64{"stats.gauges.g": 5}}}},
	{name: "24 sets", steps: []step{{udp: []string{"s:a|s\ns:b|s\ns:a|s\ns:1|s|@0.1"}, want: map[string]float64{"stats.sets.s.count": 3}},
		{want: map[string]float64{"stats.sets.s.count": 0}}}},
	{name: "24 deleteSets", cfg: func(c *Config) { c.DeleteSets = b(true) }, steps: []step{
		{udp: []string{"s:a|s"}, want: map[string]float64{"stats.sets.s.count": 1}},
		{absent: []string{"stats.sets.s.count"}}}},
	{name: "25 empty set member, multi-value set", steps: []step{{udp: []string{"e:|s\nm:x|s:y|s"},
		want: map[string]float64{"stats.sets.e.count": 1, "stats.sets.m.count": 2}}}},
	{name: "26 multi-value line", steps: []step{{udp: []string{"k:1|c:2|c:3|ms"},
		want: map[string]float64{"stats_counts.k": 3, "stats.timers.k.count": 1, "stats.timers.k.upper": 3}}}},
	{name: "27 packed values are bad", steps: []step{{udp: []string{"p:1:2:3|ms"},
		want: map[string]float64{"stats_counts.statsd.bad_lines_seen": 2, "stats.timers.p.count": 1, "stats.timers.p.upper": 3}}}},
	{name: "28 bad lines", steps: []step{{udp: []string{"nocolon\na:xyz|c\nb:1\nd:1|c|@abc\nf:1|c|0.1\ni:|c\nj:1|g|@-1\nc:-1|ms\n\n\nok:1|c"},
		want: map[string]float64{"stats_counts.statsd.bad_lines_seen": 8, "stats_counts.statsd.metrics_received": 9, "stats_counts.ok": 1},
		absent: []string{"stats_counts.a", "stats_counts.b", "stats_counts.d", "stats_counts.f", "stats_counts.i",
			"stats.gauges.j", "stats.timers.c.count"}}}},
	{name: "29 unknown types count, h is a timer", steps: []step{{udp: []string{"h:5|h\nx:5|foo\nd:2|C\ne:3|m\nf:4|kv\ng:5|d"},
		want: map[string]float64{"stats.timers.h.count": 1, "stats.timers.h.upper": 5, "stats_counts.x": 5, "stats_counts.d": 2,
			"stats_counts.e": 3, "stats_counts.f": 4, "stats_counts.g": 5},
		absent: []string{"stats_counts.h"}}}},
	{name: "30 CRLF and trailing space", steps: []step{{udp: []string{"a:1|c\r\n", "b:5|ms ", "c:-5|ms "},
		want:   map[string]float64{"stats_counts.a": 1, "stats.timers.b.upper": 5, "stats_counts.statsd.bad_lines_seen": 1},
		absent: []string{"stats.timers.c.count"}}}},
	{name: "31 sanitising", steps: []step{{udp: []string{"fo/o bar+baz:1|c", "x  y\t:1|c", "été:1|c"},
		want: map[string]float64{"stats.fo-o_barbaz": 0.1, "stats.x_y_": 0.1, "stats.t": 0.1}}}},
	{name: "31 sanitising on output", cfg: func(c *Config) { c.KeyNameSanitize = false },
		steps: []step{{udp: []string{"fo/o bar+baz:1|c", "x  y\t:1|c", "été:1|c"},
			want: map[string]float64{"stats.fo-o_barbaz": 0.1, "stats.x_y_": 0.1, "stats.t": 0.1}}}},
	{name: "32 tags", cfg: newNS, steps: []step{{udp: []string{"tg:1|c|#env:prod,host:a"},
		want: map[string]float64{"stats.counters.tg.rate;env=prod;host=a": 0.1, "stats.counters.tg.count;env=prod;host=a": 1}}}},
	{name: "33 tags are sorted", cfg: newNS, steps: []step{{udp: []string{"tg:1|c|#env:prod,host:a", "tg:1|c|#host:a,env:prod"},
		want:   map[string]float64{"stats.counters.tg.count;env=prod;host=a": 2},
		absent: []string{"stats.counters.tg.count;host=a;env=prod"}}}},
	{name: "34 tags in the key", cfg: newNS, steps: []step{{udp: []string{"tg;env=prod:1|c", "foo+bar:250|c|#tag1:val;1"},
		want: map[string]float64{"stats.counters.tg.count;env=prod": 1, "stats.counters.foobar.count;tag1=val_1": 250}}}},
	{name: "35 tagged timer and gauge", cfg: newNS, steps: []step{{udp: []string{"tt:5|ms|@0.5|#k:v", "gg:3|g|#k:v"},
		want: map[string]float64{"stats.timers.tt.count;k=v": 2, "stats.timers.tt.count_ps;k=v": 0.2, "stats.gauges.gg;k=v": 3}}}},
	{name: "36 numStats and timestamp_lag", steps: []step{
		{udp: []string{"a:1|c"}, want: map[string]float64{"statsd.numStats": 4}, absent: []string{"stats.gauges.statsd.timestamp_lag"}},
		{want: map[string]float64{"statsd.numStats": 5, "stats.gauges.statsd.timestamp_lag": 0}}}},
	{name: "37 graphiteStats", steps: []step{
		{udp: []string{"a:1|c"}, want: map[string]float64{"stats.statsd.graphiteStats.last_flush": float64(t0.Unix()),
			"stats.statsd.graphiteStats.flush_length": 0, "stats.statsd.graphiteStats.last_exception": 0,
			"stats.statsd.graphiteStats.flush_time": 0}},
		{want: map[string]float64{"stats.statsd.graphiteStats.last_exception": 0}}}},
	{name: "38 legacy ignores globalPrefix", cfg: func(c *Config) { c.Graphite.GlobalPrefix = "pfx"; c.PrefixStats = "mystatsd" },
		steps: []step{{udp: []string{"a:1|c"}, want: map[string]float64{"stats.a": 0.1, "stats_counts.a": 1, "mystatsd.numStats": 4,
			"stats_counts.mystatsd.packets_received": 1, "stats.mystatsd.graphiteStats.flush_length": 0}}}},
	{name: "39 new namespace prefixes", cfg: func(c *Config) {
		c.Graphite = GraphiteConfig{GlobalPrefix: "pfx", PrefixTimer: "tm", PrefixGauge: "gg", PrefixSet: "st", GlobalSuffix: "host1"}
		c.PrefixStats = "mystatsd"
	}, steps: []step{{udp: []string{"a:1|c\nt:1|ms\ng:1|g\ns:1|s"},
		want: map[string]float64{"pfx.a.rate.host1": 0.1, "pfx.tm.t.count.host1": 1, "pfx.gg.g.host1": 1, "pfx.st.s.count.host1": 1,
			"pfx.mystatsd.numStats.host1": 7, "pfx.mystatsd.graphiteStats.last_flush.host1": float64(t0.Unix()),
			"pfx.mystatsd.packets_received.count.host1": 1}}}},
	{name: "40 TCP drops the unterminated line", steps: []step{{tcp: []string{"a:1|c\nb:2|c"},
		want: map[string]float64{"stats_counts.a": 1, "stats_counts.statsd.packets_received": 1}, absent: []string{"stats_counts.b"}}}},
}

var timer1to10 = func() string {
	var s []string
	for i := 1; i <= 10; i++ {
		s = append(s, "t:"+strconv.Itoa(i)+"|ms")
	}
	return strings.Join(s, "\n")
}()

func newNS(c *Config) { c.Graphite.LegacyNamespace = false }

func TestChecklist(t *testing.T) {
	srv := startTestServer(t, DefaultConfig(), 2)
	for _, tc := range checklist {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			srv.reset(t, cfg, t0)
			runSteps(t, srv, tc.steps)
		})
	}
}

func runSteps(t *testing.T, srv *testServer, steps []step) {
	t.Helper()
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: srv.udpPort})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var prev *pointSink
	for i, st := range steps {
		n := srv.packets.Load()
		for _, p := range st.udp {
			if _, err := conn.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if len(st.tcp) > 0 {
			c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(srv.tcpPort))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range st.tcp {
				if _, err := c.Write([]byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
			n++
		}
		srv.waitPackets(t, n)
		out := srv.flush(t0.Add(time.Duration(i+1) * 10 * time.Second))
		for name, want := range st.want {
			got, ok := out.vals[name]
			if !ok {
				t.Errorf("flush %d: no %s; got:\n%s", i+1, name, out.text())
				continue
			}
			if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("flush %d: %s = %v, want %v", i+1, name, got, want)
			}
		}
		for _, name := range st.absent {
			if v, ok := out.vals[name]; ok {
				t.Errorf("flush %d: unexpected %s %v", i+1, name, v)
			}
		}
		if len(out.dups) > 0 {
			t.Errorf("flush %d: duplicate names %v", i+1, out.dups)
		}
		for _, p := range out.list {
			if p.ts != t0.Unix()+int64(i+1)*10 {
				t.Fatalf("flush %d: %s has ts %d", i+1, p.name, p.ts)
			}
		}
		if prev != nil {
			// graphiteStats.flush_length is the previous payload's size.
			fl := out.vals[srv.flusher.selfNS+".graphiteStats.flush_length"+srv.flusher.suffix]
			if int(fl) != len(prev.text()) {
				t.Errorf("flush %d: flush_length %v, previous payload %d bytes", i+1, fl, len(prev.text()))
			}
		}
		prev = out
	}
}
