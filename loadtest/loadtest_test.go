package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
)

func TestShapeNames(t *testing.T) {
	flat := Shape{Prefix: "lt.w1", Metrics: 100_000}
	if got := string(flat.name(nil, 42)); got != "lt.w1.m00042" {
		t.Errorf("flat name = %q", got)
	}
	tree := Shape{Prefix: "lt", Metrics: 10_000, Tree: true, Fanout: 100}
	if got := string(tree.name(nil, 4217)); got != "lt.n42.m17" {
		t.Errorf("tree name = %q", got)
	}
	tree3 := Shape{Prefix: "lt", Metrics: 1000, Tree: true, Fanout: 10}
	if got := string(tree3.name(nil, 7)); got != "lt.n0.n0.m7" {
		t.Errorf("tree3 name = %q", got)
	}
	if got := string(tree3.name(nil, 1007)); got != "lt.x1.n0.n0.m7" {
		t.Errorf("churned tree name = %q", got)
	}
	churn := Shape{Prefix: "c", Metrics: 10, Churn: 0.2}
	ids := []int{churn.seriesID(0, 0), churn.seriesID(0, 1), churn.seriesID(1, 2), churn.seriesID(2, 5)}
	if want := []int{0, 10, 21, 2}; !equalInts(ids, want) {
		t.Errorf("churn ids = %v, want %v", ids, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBuildCarbonLines(t *testing.T) {
	spec := buildSpec{Proto: CarbonTCP, Shape: Shape{Prefix: "t", Metrics: 5}, Conns: 2, Steps: 3,
		BaseTS: 1000, Step: 10, ChunkPoints: 4, ChunkBytes: 1 << 20}
	pl, err := build(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "t.m0 0 1000\nt.m2 2 1000\nt.m4 4 1000\nt.m0 1 1010\nt.m2 3 1010\nt.m4 5 1010\nt.m0 2 1020\nt.m2 4 1020\nt.m4 6 1020\n"
	if string(pl.buf) != want {
		t.Fatalf("payload:\n%s\nwant:\n%s", pl.buf, want)
	}
	var pts []int32
	for _, c := range pl.chunks {
		pts = append(pts, c.points)
		if pl.buf[c.end-1] != '\n' {
			t.Errorf("chunk %+v does not end a line", c)
		}
	}
	if len(pts) != 3 || pts[0] != 4 || pts[1] != 4 || pts[2] != 1 || pl.points != 9 {
		t.Fatalf("chunks %v, total %d; want [4 4 1], 9", pts, pl.points)
	}
	last := pl.chunks[2]
	if last.lastMetric != 4 || last.lastStep != 2 {
		t.Errorf("last chunk ends at metric %d step %d, want 4, 2", last.lastMetric, last.lastStep)
	}
	pl1, _ := build(spec, 1)
	if want := "t.m1 1 1000\nt.m3 3 1000\nt.m1 2 1010\nt.m3 4 1010\nt.m1 3 1020\nt.m3 5 1020\n"; string(pl1.buf) != want {
		t.Fatalf("conn 1 payload:\n%s", pl1.buf)
	}
}

func TestBuildCarbonUDPDatagrams(t *testing.T) {
	spec := buildSpec{Proto: CarbonUDP, Shape: Shape{Prefix: "udp", Metrics: 100}, Conns: 1, Steps: 2,
		BaseTS: 1700000000, Step: 1, ChunkBytes: 100, ChunkPoints: 1 << 30}
	pl, err := build(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range pl.chunks {
		d := pl.buf[c.off:c.end]
		if len(d) > 100 {
			t.Fatalf("datagram of %d bytes over the 100 limit", len(d))
		}
		if n := bytes.Count(d, []byte{'\n'}); n != int(c.points) {
			t.Fatalf("datagram %q has %d lines, chunk says %d", d, n, c.points)
		}
		total += int64(c.points)
	}
	// "udp.m42 42 1700000000\n" is 23 bytes: 4 per datagram.
	if total != 200 || len(pl.chunks) != 50 {
		t.Fatalf("%d points in %d datagrams, want 200 in 50", total, len(pl.chunks))
	}
}

func TestBuildStatsd(t *testing.T) {
	mix := StatsdMix{Counter: 1, Timer: 1, Gauge: 1, Set: 1, SampleRate: 0.5, Tags: 2}
	spec := buildSpec{Proto: StatsdUDP, Shape: Shape{Prefix: "s", Metrics: 4}, Mix: mix, Conns: 1, Steps: 1, PerDatagram: 3}
	pl, err := build(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	// typeOf spreads frac(i*0.618) over the 4 weights: 0->c, 1->g, 2->c, 3->s.
	var got []string
	for _, c := range pl.chunks {
		got = append(got, string(pl.buf[c.off:c.end]))
	}
	want := []string{
		"s.m0:1|c|@0.5|#tag0:v0,tag1:v0\ns.m1:1|g|#tag0:v1,tag1:v1\ns.m2:1|c|@0.5|#tag0:v0,tag1:v2",
		"s.m3:3|s|#tag0:v1,tag1:v0",
	}
	if strings.Join(got, "/") != strings.Join(want, "/") {
		t.Fatalf("datagrams:\n%q\nwant\n%q", got, want)
	}
	spec.Proto = StatsdTCP
	spec.ChunkPoints, spec.ChunkBytes = 1<<30, 1<<20
	pl, _ = build(spec, 0)
	if string(pl.buf) != strings.Join(want, "\n")+"\n" {
		t.Fatalf("tcp payload %q", pl.buf)
	}
}

func TestStatsdMixProportions(t *testing.T) {
	m := StatsdMix{Counter: 60, Timer: 20, Gauge: 15, Set: 5}
	n := map[string]int{}
	for i := range 10000 {
		n[m.typeOf(i)]++
	}
	for typ, want := range map[string]int{"c": 6000, "ms": 2000, "g": 1500, "s": 500} {
		if d := n[typ] - want; d < -50 || d > 50 {
			t.Errorf("%s: %d of 10000, want about %d", typ, n[typ], want)
		}
	}
}

// TestBuildPicklePythonOracle checks the pickle frames load in Python and
// give carbon's (path, (timestamp, value)) tuples.
func TestBuildPicklePythonOracle(t *testing.T) {
	py := testenv.Command(t, "python3", "apt python3")
	spec := buildSpec{Proto: Pickle, Shape: Shape{Prefix: "p", Metrics: 3}, Conns: 1, Steps: 2,
		BaseTS: 1700000000, Step: 60, ChunkPoints: 4, ChunkBytes: 1 << 20}
	pl, err := build(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.chunks) != 2 {
		t.Fatalf("%d frames, want 2", len(pl.chunks))
	}
	script := `import sys, struct, pickle
b = sys.stdin.buffer.read()
out = []
while b:
    (n,) = struct.unpack("!L", b[:4])
    out.append(pickle.loads(b[4:4+n]))
    b = b[4+n:]
print(repr(out))`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(pl.buf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	want := "[[('p.m0', (1700000000, 0)), ('p.m1', (1700000000, 1)), ('p.m2', (1700000000, 2)), ('p.m0', (1700000060, 1))], [('p.m1', (1700000060, 2)), ('p.m2', (1700000060, 3))]]\n"
	if string(out) != want {
		t.Fatalf("python decoded\n%s\nwant\n%s", out, want)
	}
}

func TestPatchTimestamps(t *testing.T) {
	for _, proto := range []Protocol{CarbonTCP, Pickle} {
		spec := buildSpec{Proto: proto, Shape: Shape{Prefix: "r", Metrics: 3}, Conns: 1, Steps: 1,
			BaseTS: 1700000000, Step: 1, ChunkPoints: 10, ChunkBytes: 1 << 20, Realtime: true}
		pl, err := build(spec, 0)
		if err != nil {
			t.Fatal(err)
		}
		pl.patchTimestamps(proto, 1800000123)
		if proto == CarbonTCP {
			if want := "r.m0 0 1800000123\nr.m1 1 1800000123\nr.m2 2 1800000123\n"; string(pl.buf) != want {
				t.Fatalf("patched %q", pl.buf)
			}
			continue
		}
		items, err := decodeTestPickle(pl.buf[4:])
		if err != nil || strings.Join(items, ",") != "r.m0 1800000123,r.m1 1800000123,r.m2 1800000123" {
			t.Fatalf("patched pickle %v %v", items, err)
		}
	}
}

func TestSumPromSamples(t *testing.T) {
	body := []byte("# HELP x\n# TYPE plumbago_points_dropped_total counter\n" +
		"plumbago_points_dropped_total{reason=\"udp\"} 3\nplumbago_points_dropped_total{reason=\"retention\"} 4.5 1700000000000\n" +
		"plumbago_points_dropped_total_x 100\nplumbago_points_committed_total 1e+06\n")
	if v, ok, err := sumPromSamples(body, MetricDropped); err != nil || !ok || v != 7.5 {
		t.Errorf("dropped = %v %v %v, want 7.5", v, ok, err)
	}
	if v, ok, err := sumPromSamples(body, MetricCommitted); err != nil || !ok || v != 1e6 {
		t.Errorf("committed = %v %v %v, want 1e6", v, ok, err)
	}
	if _, ok, _ := sumPromSamples(body, MetricReceived); ok {
		t.Error("received found in a body without it")
	}
	if _, _, err := sumPromSamples([]byte("plumbago_points_received_total{a=\"b\" 3\n"), MetricReceived); err == nil {
		t.Error("want an error for an unterminated label set")
	}
}

func FuzzSumPromSamples(f *testing.F) {
	f.Add([]byte("plumbago_points_committed_total 12\n"))
	f.Add([]byte("plumbago_points_committed_total{a=\"}\"} 1\n"))
	f.Add([]byte("plumbago_points_committed_total{\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = sumPromSamples(b, MetricCommitted)
	})
}

// TestRunCountsExact sends through every protocol to a loopback sink that
// decodes each point, and checks the generator's count, the sink's count and
// the committed count read back from a Prometheus endpoint agree exactly.
func TestRunCountsExact(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want int64
	}{
		{"carbon-tcp backfill", Config{Proto: CarbonTCP, Conns: 4, Points: 10, Shape: Shape{Prefix: "lt.a", Metrics: 1000}}, 10000},
		{"carbon-tcp tree churn", Config{Proto: CarbonTCP, Conns: 3, Points: 5, Shape: Shape{Prefix: "lt.b", Metrics: 999, Tree: true, Fanout: 10, Churn: 0.1}}, 4995},
		{"pickle", Config{Proto: Pickle, Conns: 2, Points: 10, Shape: Shape{Prefix: "lt.c", Metrics: 1001}}, 10010},
		{"carbon-udp paced", Config{Proto: CarbonUDP, Conns: 2, Points: 4, Rate: 20000, Shape: Shape{Prefix: "lt.d", Metrics: 500}}, 2000},
		{"statsd-udp 20/datagram", Config{Proto: StatsdUDP, Conns: 2, Points: 10, PerDatagram: 20, Rate: 50000,
			Shape: Shape{Prefix: "lt.e", Metrics: 1000}, Mix: StatsdMix{Counter: 60, Timer: 20, Gauge: 15, Set: 5}}, 10000},
		{"statsd-tcp", Config{Proto: StatsdTCP, Conns: 2, Points: 3, Shape: Shape{Prefix: "lt.f", Metrics: 1000},
			Mix: StatsdMix{Counter: 1, SampleRate: 0.1, Tags: 1}}, 3000},
		{"carbon-tcp duration", Config{Proto: CarbonTCP, Conns: 1, Points: 2, Rate: 2000, Duration: 1500 * time.Millisecond,
			Shape: Shape{Prefix: "lt.g", Metrics: 100}}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := newTestSink(t, c.cfg.Proto)
			cfg := c.cfg
			cfg.Addr = sink.addr
			cfg.Committed = "prom:" + sink.http.URL + "/metrics#" + MetricCommitted
			cfg.Dropped = "prom:" + sink.http.URL + "/metrics#" + MetricDropped
			cfg.Settle = 3 * time.Second
			cfg.Wait = 20 * time.Second
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			points, packets, bad, dup := sink.snapshot()
			if len(bad) > 0 {
				t.Fatalf("sink saw %d bad lines, first %q", len(bad), bad[0])
			}
			want := c.want
			if want < 0 { // duration mode: ~2000/s for 1.5 s, replaying 200 points
				want = rep.PointsSent
				if want < 2500 || want > 3100 {
					t.Fatalf("duration run sent %d points, want about 3000", want)
				}
			}
			if rep.PointsSent != want || points != want {
				t.Fatalf("sent %d, sink got %d, want %d", rep.PointsSent, points, want)
			}
			if rep.Committed != float64(want) || !rep.AllCommitted || rep.Lost != 0 || len(rep.Errors) > 0 {
				t.Fatalf("report: committed %v all %v lost %v errors %v", rep.Committed, rep.AllCommitted, rep.Lost, rep.Errors)
			}
			if c.want > 0 && !cfg.Proto.statsd() && dup != 0 {
				t.Fatalf("%d (name, ts) pairs sent twice", dup)
			}
			if !cfg.Proto.stream() && packets != rep.Writes {
				t.Fatalf("sink got %d datagrams, loader wrote %d", packets, rep.Writes)
			}
			if cfg.Proto == StatsdUDP && rep.Writes != want/20 {
				t.Fatalf("%d datagrams for %d points at 20 per datagram", rep.Writes, want)
			}
			if rep.CommitRate <= 0 || rep.CommitSeconds <= 0 {
				t.Fatalf("no end-to-end figure: %+v", rep)
			}
		})
	}
}

func TestRunBackfillTimestamps(t *testing.T) {
	sink := newTestSink(t, CarbonTCP)
	before := time.Now().Unix()
	rep, err := Run(context.Background(), Config{Proto: CarbonTCP, Addr: sink.addr, Points: 100, Shape: Shape{Prefix: "ts", Metrics: 3}})
	if err != nil || rep.PointsSent != 300 {
		t.Fatal(rep, err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p, _, _, _ := sink.snapshot(); p == 300 {
			break
		}
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	minTS, maxTS := int64(1<<62), int64(0)
	for k := range sink.seen {
		ts, _ := json.Number(k[strings.IndexByte(k, ' ')+1:]).Int64()
		minTS, maxTS = min(minTS, ts), max(maxTS, ts)
	}
	// 100 steps of 1 s ending at the last whole second: [now-100, now-1].
	if maxTS-minTS != 99 || maxTS > before || maxTS < before-2 {
		t.Fatalf("timestamps span [%d, %d], want 100 s ending just before %d", minTS, maxTS, before)
	}
}

func TestMainWritesReportAndPlot(t *testing.T) {
	sink := newTestSink(t, CarbonTCP)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := Main([]string{"--scenario", "W1", "--addr", sink.addr, "--metrics", "200", "--points", "5",
		"--connections", "2", "--rate", "500", "--committed", "prom:" + sink.http.URL + "/metrics#" + MetricCommitted,
		"--json", filepath.Join(dir, "r.json"), "--plot", filepath.Join(dir, "r.svg")}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	summary := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"load test W1: carbon-tcp", "series x points 200 x 5", "points sent 1000 in", "all points committed", "lost 0 (0.0000%)"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "committed") {
		t.Errorf("no progress lines: %q", errOut.String())
	}
	var rep Report
	b, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.PointsSent != 1000 || rep.Committed != 1000 || len(rep.Timeline) < 1 || rep.Scenario != "W1" {
		t.Fatalf("json report %+v", rep)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "r.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte("committed points/s")) || !bytes.Contains(svg, []byte("<path d=\"M")) {
		t.Fatalf("svg looks wrong:\n%.400s", svg)
	}
}

func TestMainErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario", "W9"}, {"--protocol", "smtp", "--addr", "127.0.0.1:1"}, {"--mix", "c=1,x=2"},
		{"--shape", "ring"}, {"--committed", "nope", "--addr", "127.0.0.1:1"}, {"extra"},
		{"--metrics", "100000000", "--points", "1000", "--addr", "127.0.0.1:1"}, // payload over 2 GiB per connection
		{"--churn", "1.5", "--addr", "127.0.0.1:1"}, {"--compare", "/nonexistent.json"},
	} {
		if err := Main(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("Main(%q) = nil, want an error", args)
		}
	}
}

// TestRunPollsCommittedAtPoll: once sending is over the committed counter
// is read every --poll, not every 100 ms. The counter here never reaches
// what was sent (nothing counts it), so the run waits out the 2 s settle:
// at 1 s polls that is the baseline read, one per progress tick while
// sending, the read at the end of sending, two or three polls and the
// final read; at 100 ms it would be twenty or more.
func TestRunPollsCommittedAtPoll(t *testing.T) {
	sink := newTestSink(t, CarbonTCP)
	t0 := time.Now()
	rep, err := Run(context.Background(), Config{Proto: CarbonTCP, Addr: sink.addr, Conns: 1, Points: 1,
		Shape: Shape{Prefix: "poll", Metrics: 100}, Settle: 2 * time.Second, Poll: time.Second,
		Committed: "prom:" + sink.http.URL + "/metrics#plumbago_points_committed_total_other"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PointsSent != 100 || rep.Committed != 0 || rep.AllCommitted {
		t.Fatalf("sent %d committed %v all %v; want 100 sent, none counted", rep.PointsSent, rep.Committed, rep.AllCommitted)
	}
	if d := time.Since(t0); d < 2*time.Second {
		t.Fatalf("the run took %v, less than its 2 s settle", d)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.scrapes < 3 || sink.scrapes > 7 {
		t.Fatalf("%d reads of /metrics over a 2 s settle at 1 s polls, want 3 to 7", sink.scrapes)
	}
}

// TestRunRealtimeWithQueriesAndVisibility runs the query scenario's shape in
// small: realtime rounds stamped with the wall clock, visibility probes and a
// render query load against the sink's /render.
func TestRunRealtimeWithQueriesAndVisibility(t *testing.T) {
	sink := newTestSink(t, CarbonTCP)
	start := time.Now().Unix()
	rep, err := Run(context.Background(), Config{Proto: CarbonTCP, Addr: sink.addr, Conns: 2, Points: 3, Realtime: true,
		Shape: Shape{Prefix: "rt", Metrics: 200, Tree: true, Fanout: 10}, RenderURL: sink.http.URL + "/render",
		VisibilityEvery: 100 * time.Millisecond, QueryRate: 20,
		Committed: "prom:" + sink.http.URL + "/metrics#" + MetricCommitted, Settle: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Unix()
	if rep.PointsSent != 600 || rep.Committed != 600 || !rep.AllCommitted {
		t.Fatalf("sent %d committed %v", rep.PointsSent, rep.Committed)
	}
	// One round per second: about 2 s from the first round to the last.
	if rep.SendSeconds < 1.9 || rep.SendSeconds > 3 {
		t.Fatalf("3 realtime rounds took %.2fs, want about 2s", rep.SendSeconds)
	}
	if rep.Visibility.Count < 1 || rep.Visibility.Errors != 0 || rep.Visibility.MaxMS > 1000 {
		t.Fatalf("visibility %+v", rep.Visibility)
	}
	if rep.Queries.Count < 20 || rep.Queries.Errors != 0 {
		t.Fatalf("queries %+v", rep.Queries)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	rounds := map[int64]int{}
	for _, dps := range sink.values {
		for _, dp := range dps {
			rounds[int64(dp[1])]++
		}
	}
	if len(rounds) != 3 {
		t.Fatalf("timestamps %v, want 3 rounds of 200", rounds)
	}
	for ts, n := range rounds {
		if n != 200 || ts < start || ts > end {
			t.Fatalf("timestamp %d: %d points; want 200 within the run [%d, %d]", ts, n, start, end)
		}
	}
}
