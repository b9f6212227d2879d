package pipeline

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/ingest/rewrite"
)

// recorder is the write buffer's place in these tests: it records what
// reaches it.
type recorder struct {
	got     []string
	flushes int
}

func (r *recorder) AddPoint(name []byte, ts int64, v float64) {
	r.got = append(r.got, fmt.Sprintf("%s %g %d", name, v, ts))
}
func (r *recorder) Flush() { r.flushes++ }

// testConfig is a chain with every stage configured: a blacklist, a
// whitelist, [pre] and [post] rewrites and one aggregation rule.
func testConfig(t testing.TB, forwardAll bool) Config {
	t.Helper()
	black, err := rewrite.ParseList(strings.NewReader("^junk\\.\n"))
	if err != nil {
		t.Fatal(err)
	}
	white, err := rewrite.ParseList(strings.NewReader("^(app|agg|junk)\\.\ncpu\n"))
	if err != nil {
		t.Fatal(err)
	}
	rw, err := rewrite.Parse(strings.NewReader("[pre]\n^app\\.old\\. = app.new.\n^app\\.gone\\..* = \n[post]\n^agg\\.(\\w+)\\.total$ = agg.total.\\1\n^app\\.plain$ = app.renamed\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := aggregator.Parse(strings.NewReader("agg.<host>.total (10) = sum agg.<host>.*\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules.ForwardAll = forwardAll
	return Config{Rules: Rules{Filter: rewrite.Filter{Blacklist: black, Whitelist: white}, Rewrite: rw, Aggregation: rules}}
}

// TestChainStagesInCarbonOrder sends one point per stage's outcome through
// one loop's chain and checks what reaches the write buffer, exactly, and
// what each stage counted.
func TestChainStagesInCarbonOrder(t *testing.T) {
	c := NewChain(testConfig(t, false))
	out := &recorder{}
	sink := c.Wrap(out)
	for _, p := range []string{
		"app.old.x 1 100",       // [pre] rewrite
		"app.gone.y 2 100",      // rewritten to nothing: unsafe
		"junk.z 3 100",          // blacklisted (before the whitelist)
		"other.w 4 100",         // not whitelisted
		"app.bad..name 5 100",   // unsafe: empty node
		"cpu;host=b;dc=x 6 100", // tagged: canonical order
		"cpu;host= 7 100",       // bad tag
		"agg.h1.a 8 100",        // aggregated, not forwarded
		"agg.h1.b 9 105",        // aggregated, not forwarded
		"app.plain 10 100",      // [post] rewrite
		"app.keep 11 100",       // unchanged
	} {
		f := strings.Fields(p)
		var v float64
		var ts int64
		fmt.Sscan(f[1], &v)
		fmt.Sscan(f[2], &ts)
		sink.AddPoint([]byte(f[0]), ts, v)
	}
	sink.Flush()
	want := []string{"app.new.x 1 100", "cpu;dc=x;host=b 6 100", "app.renamed 10 100", "app.keep 11 100"}
	if strings.Join(out.got, "|") != strings.Join(want, "|") || out.flushes != 1 {
		t.Fatalf("write buffer got %q (%d flushes); want %q (1 flush)", out.got, out.flushes, want)
	}
	if got, want := c.Counts(), (Counts{UnsafeNames: 2, BadTags: 1, BlacklistMatches: 1, WhitelistRejects: 1}); got != want {
		t.Fatalf("Counts = %+v; want %+v", got, want)
	}

	// The merger takes the loop's aggregation state and writes the sum;
	// aggregates skip the rewrite rules (the [post] rule that would rename
	// agg.h1.total does not apply), as in carbon-aggregator 1.1.7.
	agg := &recorder{}
	m := NewMerger(c, func() ingest.SinkFlusher { return agg }, nil, nil)
	m.FlushAll()
	if want := []string{"agg.h1.total 17 100"}; strings.Join(agg.got, "|") != strings.Join(want, "|") {
		t.Fatalf("aggregates %q; want %q", agg.got, want)
	}
	if m.Sent() != 1 {
		t.Fatalf("Sent = %d; want 1", m.Sent())
	}
}

// TestChainForwardAll: with FORWARD_ALL the raw points of matched metrics
// are stored too.
func TestChainForwardAll(t *testing.T) {
	c := NewChain(testConfig(t, true))
	out := &recorder{}
	sink := c.Wrap(out)
	sink.AddPoint([]byte("agg.h2.a"), 200, 1)
	if want := "agg.h2.a 1 200"; strings.Join(out.got, "|") != want {
		t.Fatalf("got %q; want %q", out.got, want)
	}
}

// TestChainSetRules replaces the whole rule set under a running loop: the
// next point takes the new lists, rewrites and aggregation rules; what the
// loop aggregated under the old rules is emitted by them, the new rules'
// aggregates beside it.
func TestChainSetRules(t *testing.T) {
	c := NewChain(testConfig(t, false))
	out := &recorder{}
	sink := c.Wrap(out)
	sink.AddPoint([]byte("agg.h1.a"), 100, 1) // old rules: aggregated
	sink.AddPoint([]byte("app.old.x"), 100, 2)

	white, err := rewrite.ParseList(strings.NewReader("^(app|agg|other)\\.\n"))
	if err != nil {
		t.Fatal(err)
	}
	rw, err := rewrite.Parse(strings.NewReader("[pre]\n^app\\.old\\. = app.newer.\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := aggregator.Parse(strings.NewReader("agg.<host>.max (10) = max agg.<host>.*\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetRules(&Rules{Filter: rewrite.Filter{Whitelist: white}, Rewrite: rw, Aggregation: rules})
	sink.AddPoint([]byte("agg.h1.a"), 100, 5) // new rules
	sink.AddPoint([]byte("app.old.x"), 100, 3)
	sink.AddPoint([]byte("other.w"), 100, 4) // whitelisted now
	sink.AddPoint([]byte("junk.z"), 100, 6)  // neither blacklisted nor whitelisted now
	sink.Flush()
	want := []string{"app.new.x 2 100", "app.newer.x 3 100", "other.w 4 100"}
	if strings.Join(out.got, "|") != strings.Join(want, "|") {
		t.Fatalf("write buffer got %q; want %q", out.got, want)
	}
	if got, want := c.Counts(), (Counts{WhitelistRejects: 1}); got != want {
		t.Fatalf("Counts = %+v; want %+v", got, want)
	}
	agg := &recorder{}
	m := NewMerger(c, func() ingest.SinkFlusher { return agg }, nil, nil)
	m.FlushAll()
	sort.Strings(agg.got)
	if want := []string{"agg.h1.max 5 100", "agg.h1.total 1 100"}; strings.Join(agg.got, "|") != strings.Join(want, "|") {
		t.Fatalf("aggregates %q; want %q", agg.got, want)
	}

	// Without aggregation rules a loop aggregates nothing and forwards all.
	c.SetRules(&Rules{})
	sink.AddPoint([]byte("agg.h1.a"), 110, 7)
	if got := out.got[len(out.got)-1]; got != "agg.h1.a 7 110" {
		t.Fatalf("last point %q; want agg.h1.a 7 110", got)
	}
}

// TestChainAllocations: the per-point path does not allocate once a loop's
// buffers have grown: lists and rewrite rules that do not match, tag
// normalisation, aggregation of a known name. (A rewrite rule that matches
// costs regexp's FindAllSubmatchIndex: 2 allocations.)
func TestChainAllocations(t *testing.T) {
	c := NewChain(testConfig(t, false))
	sink := c.Wrap(&discard{})
	names := [][]byte{[]byte("cpu;host=b;dc=x"), []byte("agg.h1.a"), []byte("app.keep")}
	for _, n := range names {
		sink.AddPoint(n, 100, 1)
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, n := range names {
			sink.AddPoint(n, 100, 1)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per 3 points; want 0", n)
	}
}

type discard struct{ n int }

func (d *discard) AddPoint([]byte, int64, float64) { d.n++ }
func (d *discard) Flush()                          {}
