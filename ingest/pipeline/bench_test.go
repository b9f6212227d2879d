package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/aggregator"
	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/line"
	"github.com/plumbago/plumbago/ingest/rewrite"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
)

// The chain as a W1-shaped workload meets it in production: a whitelist
// every name passes, a blacklist none matches, [pre] and [post] rewrite
// rules that do not match, and an aggregation rule that matches one series
// in 250 (FORWARD_ALL, so every raw point is still stored).
const (
	benchWhitelist = "^w1\\.\n"
	benchBlacklist = "^junk\\.\n^w1\\.c9\\.\n"
	benchRewrite   = "[pre]\n^w1\\.old\\.(.*) = w1.new.\\1\n[post]\n^agg\\.old\\. = agg.new.\n"
	benchRules     = "agg.<conn>.total (60) = sum w1.<conn>.host0.metric0\n"
)

func benchConfig(b *testing.B) Config {
	b.Helper()
	white, err := rewrite.ParseList(strings.NewReader(benchWhitelist))
	if err != nil {
		b.Fatal(err)
	}
	black, err := rewrite.ParseList(strings.NewReader(benchBlacklist))
	if err != nil {
		b.Fatal(err)
	}
	rw, err := rewrite.Parse(strings.NewReader(benchRewrite))
	if err != nil {
		b.Fatal(err)
	}
	rules, err := aggregator.Parse(strings.NewReader(benchRules))
	if err != nil {
		b.Fatal(err)
	}
	rules.ForwardAll = true
	return Config{Rules: Rules{Filter: rewrite.Filter{Whitelist: white, Blacklist: black}, Rewrite: rw, Aggregation: rules}}
}

// benchName is series i of connection k: W1's plain names, or tagged ones
// whose tags arrive out of canonical order (normalisation rewrites them).
func benchName(buf *bytes.Buffer, tagged bool, k, i int) {
	if tagged {
		fmt.Fprintf(buf, "w1.c%d.metric%d;host=host%d;dc=eu", k, i, i/250)
		return
	}
	fmt.Fprintf(buf, "w1.c%d.host%d.metric%d", k, i/250, i)
}

// BenchmarkChain is one point through the whole per-point chain, every
// goroutine an event loop with its own LoopSink (as gnet's loops have), into
// a sink that counts. Names: 1,000 plain and 1,000 tagged series.
func BenchmarkChain(b *testing.B) {
	c := NewChain(benchConfig(b))
	var names [][]byte
	for i := range 1000 {
		for _, tg := range []bool{false, true} {
			var buf bytes.Buffer
			benchName(&buf, tg, 0, i)
			names = append(names, buf.Bytes())
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		d := &discard{}
		sink := c.Wrap(d)
		i := 0
		for pb.Next() {
			sink.AddPoint(names[i%len(names)], 1700000000+int64(i/len(names)), 1)
			i++
		}
	})
}

// countStore counts what reaches storage, so the TCP benchmarks measure the
// network core, the parser, the chain and the write buffer, not a backend.
type countStore struct{ n atomic.Int64 }

func (d *countStore) Write(b *storage.Batch) error { d.n.Add(int64(b.Points())); return nil }
func (d *countStore) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (d *countStore) Find(string) ([]storage.Node, error) { return nil, nil }
func (d *countStore) Close() error                        { return nil }

// BenchmarkTCPIngestChain is ingest's W1 shape (4 TCP connections, 25,000
// series each, small integer values, 1 s steps) through the path a carbon
// plaintext point really takes in plumbago serve: gnet, the line parser, the
// whole chain (lists, rewrites, aggregation rules), the write buffer with its
// name index, until every point has been handed to storage. One op = one
// point.
func BenchmarkTCPIngestChain(b *testing.B) { benchTCPChain(b, false) }

// BenchmarkTCPIngestChainTagged is the same with tagged names (tags out of
// canonical order, so every point is normalised and the tag index learns
// every series).
func BenchmarkTCPIngestChainTagged(b *testing.B) { benchTCPChain(b, true) }

func benchTCPChain(b *testing.B, tagged bool) {
	const conns, seriesPerConn = 4, 25000
	st := &countStore{}
	c, err := cache.New(st, index.New(), cache.Options{Shards: 4, FlushInterval: 200 * time.Millisecond, Step: func(string, int64, int64) int64 { return 1 }})
	if err != nil {
		b.Fatal(err)
	}
	chain := NewChain(benchConfig(b))
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(b))
	srv, err := ingest.NewServer(ingest.Config{
		EventLoops: 2,
		NewSink:    func() ingest.SinkFlusher { return chain.Wrap(c.NewProducer()) },
	}, []ingest.Listener{{Name: "carbon", Network: "tcp", Addr: addr, Handler: &line.Handler{}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())

	// The payload is built before the clock starts.
	payloads := make([][]byte, conns)
	per := (b.N + conns - 1) / conns
	total, sent := 0, 0
	for k := range payloads {
		var buf bytes.Buffer
		n := min(per, b.N-total)
		for i := 0; i < n; i++ {
			benchName(&buf, tagged, k, i%seriesPerConn)
			buf.WriteByte(' ')
			buf.WriteString(strconv.Itoa(i % 100))
			buf.WriteByte(' ')
			buf.WriteString(strconv.FormatInt(1700000000+int64(i/seriesPerConn), 10))
			buf.WriteByte('\n')
		}
		total += n
		payloads[k] = buf.Bytes()
		sent += buf.Len()
	}
	b.SetBytes(int64(sent / max(b.N, 1)))
	b.ReportAllocs()
	allocs := ingesttest.StartAllocs()
	b.ResetTimer()
	ingesttest.SendAll(b, addr, payloads)
	ingesttest.WaitStored(b, st.n.Load, int64(total))
	b.StopTimer()
	perPoint := allocs.PerOp(total)
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(perPoint, "allocs/point")
	if cnt := chain.Counts(); cnt != (Counts{}) {
		b.Fatalf("the chain dropped points: %+v", cnt)
	}
	c.Close()
}
