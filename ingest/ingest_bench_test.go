package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/line"
	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/cache"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/whisper"
)

// countStore counts what reaches storage, so the benchmark measures the
// network core, the parser and the write buffer, not a backend.
type countStore struct{ n atomic.Int64 }

func (d *countStore) Write(b *storage.Batch) error { d.n.Add(int64(b.Points())); return nil }
func (d *countStore) Fetch(string, int64, int64, int64) (*storage.Series, error) {
	return nil, storage.ErrNotFound
}
func (d *countStore) Find(string) ([]storage.Node, error) { return nil, nil }
func (d *countStore) Close() error                        { return nil }

// BenchmarkTCPIngestW1Shape sends W1-shaped carbon plaintext (distinct
// series, small integer values, 1 s steps) over 4 TCP connections and waits
// until every point has been handed to storage. One op = one point.
func BenchmarkTCPIngestW1Shape(b *testing.B) {
	st := &countStore{}
	benchTCPIngest(b, st, st.n.Load, 25000, 1700000000, false)
}

// BenchmarkTCPIngestW1ShapeWarm is the same once every series exists (the
// write buffer has seen one point of each): the per-point cost without
// series creation, which BenchmarkTCPIngestW1Shape includes (2 allocations
// per new series and its buffer's first growths).
func BenchmarkTCPIngestW1ShapeWarm(b *testing.B) {
	st := &countStore{}
	benchTCPIngest(b, st, st.n.Load, 25000, 1700000000, true)
}

// BenchmarkTCPIngestWhisperW1 is W1 end to end into the whisper backend:
// new files, schema 1s:15m,1m:1d, xFilesFactor 0, average, timestamps in the
// last 100 s. Each op is one point; b.N/100 series of 100 points each.
func BenchmarkTCPIngestWhisperW1(b *testing.B) {
	rules := w1Rules(b)
	st, err := whisper.Open(whisper.Options{Dir: b.TempDir(), Rules: rules, Index: index.New()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchTCPIngest(b, st, func() int64 { return int64(st.Stats().PointsWritten) }, max(b.N/100/4, 1), time.Now().Unix()-100, false)
}

// BenchmarkTCPIngestPebbleW1 is the same into the pebble backend.
func BenchmarkTCPIngestPebbleW1(b *testing.B) {
	rules := w1Rules(b)
	st, err := pebble.Open(pebble.Options{Dir: b.TempDir(), Rules: rules, Index: index.New(), SyncInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchTCPIngest(b, st, func() int64 { return st.Stats().PointsWritten }, max(b.N/100/4, 1), time.Now().Unix()-100, false)
}

func w1Rules(b *testing.B) *schema.Rules {
	ss, err := schema.ParseSchemas(strings.NewReader("[w1]\npattern = .*\nretentions = 1s:15m,1m:1d\n"))
	if err != nil {
		b.Fatal(err)
	}
	as, err := schema.ParseAggregations(strings.NewReader("[w1]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"))
	if err != nil {
		b.Fatal(err)
	}
	return &schema.Rules{Schemas: ss, Aggregations: as}
}

// benchTCPIngest sends b.N points over 4 TCP connections, seriesPerConn
// series per connection with consecutive 1 s timestamps from t0, and waits
// until written() counts them all. With warm, every series gets one point
// (at t0-1) before the clock starts, so the figures are the steady state of
// known series without the cost of creating them.
func benchTCPIngest(b *testing.B, st storage.Store, written func() int64, seriesPerConn int, t0 int64, warm bool) {
	const conns = 4
	port := ingesttest.FreePort(b)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c, err := cache.New(st, nil, cache.Options{Shards: 4, FlushInterval: 200 * time.Millisecond, Step: func(string, int64, int64) int64 { return 1 }})
	if err != nil {
		b.Fatal(err)
	}
	h := &line.Handler{}
	srv, err := ingest.NewServer(ingest.Config{
		EventLoops: 2,
		NewSink:    func() ingest.SinkFlusher { return c.NewProducer() },
	}, []ingest.Listener{{Name: "carbon", Network: "tcp", Addr: addr, Handler: h}})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())

	var before int64
	if warm {
		p, n := w1Payloads(conns, conns*seriesPerConn, seriesPerConn, t0-1)
		ingesttest.SendAll(b, addr, p)
		ingesttest.WaitStored(b, written, int64(n))
		before = int64(n)
	}
	// Build the payload before the clock starts: per connection, its share
	// of b.N points over seriesPerConn series per connection.
	payloads, total := w1Payloads(conns, b.N, seriesPerConn, t0)
	var bytesSent int
	for _, p := range payloads {
		bytesSent += len(p)
	}
	b.SetBytes(int64(bytesSent / max(b.N, 1)))
	b.ReportAllocs()
	allocs := ingesttest.StartAllocs()
	b.ResetTimer()
	ingesttest.SendAll(b, addr, payloads)
	ingesttest.WaitStored(b, written, before+int64(total))
	b.StopTimer()
	perPoint := allocs.PerOp(total)
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(perPoint, "allocs/point")
	c.Close()
}

// w1Payloads is n W1-shaped points split over conns connections:
// connection k's i-th point is series i mod seriesPerConn at t0 + i /
// seriesPerConn.
func w1Payloads(conns, n, seriesPerConn int, t0 int64) ([][]byte, int) {
	payloads := make([][]byte, conns)
	per := (n + conns - 1) / conns
	total := 0
	for k := range payloads {
		var buf bytes.Buffer
		m := min(per, n-total)
		for i := 0; i < m; i++ {
			buf.WriteString("w1.c")
			buf.WriteString(strconv.Itoa(k))
			buf.WriteString(".host")
			buf.WriteString(strconv.Itoa(i % seriesPerConn / 250))
			buf.WriteString(".metric")
			buf.WriteString(strconv.Itoa(i % seriesPerConn))
			buf.WriteByte(' ')
			buf.WriteString(strconv.Itoa(i % 100))
			buf.WriteByte(' ')
			buf.WriteString(strconv.FormatInt(t0+int64(i/seriesPerConn), 10))
			buf.WriteByte('\n')
		}
		total += m
		payloads[k] = buf.Bytes()
	}
	return payloads, total
}
