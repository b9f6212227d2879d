package carbonlink

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/plumbago/plumbago/ingest/pickle"
	"github.com/plumbago/plumbago/query/pickleenc"
	"github.com/plumbago/plumbago/storage"
)

// Cache is what the server reads unflushed points from. The name passed in
// is only valid during the call (it aliases the request buffer); an
// implementation must copy it to keep it. Points appends to dst and returns
// it; an unknown metric appends nothing.
type Cache interface {
	Points(name string, dst []storage.Point) []storage.Point
}

// Metadata answers get-metadata requests. AggregationMethod returns the
// metric's aggregation method name as whisper spells it ("average", "sum",
// ...). name is only valid during the call.
type Metadata interface {
	AggregationMethod(name string) (string, error)
}

// Stats are counters shared by every Server that points at them; carbon
// reports them as cache.queries, cache.bulk_queries and
// cache.bulk_queries_average_size.
type Stats struct {
	Queries       atomic.Uint64
	BulkQueries   atomic.Uint64
	BulkMetrics   atomic.Uint64 // sum of bulk request sizes
	BadRequests   atomic.Uint64
	MetadataCalls atomic.Uint64
}

// DefaultMaxFrame bounds one request. carbon's CacheManagementHandler uses
// 1 GiB (its comment says 1 MB); requests are small, so 1 MiB is plenty.
const DefaultMaxFrame = 1 << 20

// ErrFrameTooLarge is returned by Handle when a request's length prefix
// exceeds MaxFrame; the connection should be closed.
var ErrFrameTooLarge = errors.New("carbonlink request too large")

// Server answers carbonlink requests. It is not safe for concurrent use: use
// one per event loop (they can share Cache, Metadata and Stats).
type Server struct {
	Cache    Cache
	Metadata Metadata // optional
	Stats    *Stats   // optional
	// MaxFrame bounds a request body (default DefaultMaxFrame).
	MaxFrame int

	dec pickle.Decoder
	req pickle.CarbonlinkRequest
	pts []storage.Point
}

// Handle consumes every complete request frame at the start of in and
// appends one response frame per request to out. It returns how many bytes
// of in were consumed (a trailing partial frame is left for the next call)
// and the extended out. A request that is not a valid safe pickle gets an
// {'error': ...} answer and the stream carries on; only an oversized length
// prefix returns an error, after which the connection must be closed.
func (s *Server) Handle(in []byte, out []byte) (consumed int, _ []byte, err error) {
	max := s.MaxFrame
	if max <= 0 {
		max = DefaultMaxFrame
	}
	for {
		n, err := pickle.FrameLen(in[consumed:], max)
		if err != nil {
			return consumed, out, fmt.Errorf("%w: %w", ErrFrameTooLarge, err)
		}
		if n == 0 || n > len(in)-consumed {
			return consumed, out, nil
		}
		out = s.answer(in[consumed+4:consumed+n], out)
		consumed += n
	}
}

// view returns a string sharing b's memory; valid while b is unchanged.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (s *Server) answer(body []byte, out []byte) []byte {
	if err := s.dec.Request(body, &s.req); err != nil {
		s.count(func(st *Stats) { st.BadRequests.Add(1) })
		return errorFrame(out, "invalid request: "+err.Error())
	}
	r := &s.req
	switch string(r.Type) {
	case "cache-query":
		s.count(func(st *Stats) { st.Queries.Add(1) })
		s.pts = s.Cache.Points(view(r.Metric), s.pts[:0])
		return pickleenc.AppendFrame(out, func(b []byte) []byte {
			b = pickleenc.AppendProto(b)
			b = pickleenc.AppendEmptyDict(b)
			b = pickleenc.AppendMark(b)
			b = pickleenc.AppendString(b, "datapoints")
			b = appendPoints(b, s.pts)
			b = pickleenc.AppendSetItems(b)
			return pickleenc.AppendStop(b)
		})
	case "cache-query-bulk":
		s.count(func(st *Stats) {
			st.BulkQueries.Add(1)
			st.BulkMetrics.Add(uint64(len(r.Metrics)))
		})
		return pickleenc.AppendFrame(out, func(b []byte) []byte {
			b = pickleenc.AppendProto(b)
			b = pickleenc.AppendEmptyDict(b)
			b = pickleenc.AppendMark(b)
			b = pickleenc.AppendString(b, "datapointsByMetric")
			b = pickleenc.AppendEmptyDict(b)
			b = pickleenc.AppendMark(b)
			for _, m := range r.Metrics {
				s.pts = s.Cache.Points(view(m), s.pts[:0])
				b = appendName(b, m)
				b = appendPoints(b, s.pts)
			}
			b = pickleenc.AppendSetItems(b)
			b = pickleenc.AppendSetItems(b)
			return pickleenc.AppendStop(b)
		})
	case "get-metadata":
		s.count(func(st *Stats) { st.MetadataCalls.Add(1) })
		if string(r.Key) != "aggregationMethod" {
			return errorFrame(out, fmt.Sprintf("Unsupported metadata key %q", r.Key))
		}
		if s.Metadata == nil {
			return errorFrame(out, "metadata is not available")
		}
		method, err := s.Metadata.AggregationMethod(view(r.Metric))
		if err != nil {
			return errorFrame(out, fmt.Sprintf("get-metadata %q: %v", r.Metric, err))
		}
		return pickleenc.AppendFrame(out, func(b []byte) []byte {
			b = pickleenc.AppendProto(b)
			b = pickleenc.AppendEmptyDict(b)
			b = pickleenc.AppendMark(b)
			b = pickleenc.AppendString(b, "value")
			b = pickleenc.AppendString(b, method)
			b = pickleenc.AppendSetItems(b)
			return pickleenc.AppendStop(b)
		})
	case "set-metadata":
		return errorFrame(out, "set-metadata is not supported")
	}
	return errorFrame(out, fmt.Sprintf("Invalid request type %q", r.Type))
}

func (s *Server) count(f func(*Stats)) {
	if s.Stats != nil {
		f(s.Stats)
	}
}

// appendName writes a requested metric name back as the answer's key: a str
// when it is UTF-8, else (a client sent bytes that are not) the same bytes,
// as carbon's Python answer keeps a bytes key.
func appendName(b, name []byte) []byte {
	if utf8.Valid(name) {
		return pickleenc.AppendStringBytes(b, name)
	}
	return pickleenc.AppendBytes(b, name)
}

func appendPoints(b []byte, pts []storage.Point) []byte {
	b = pickleenc.AppendEmptyList(b)
	if len(pts) == 0 {
		return b
	}
	b = pickleenc.AppendMark(b)
	for _, p := range pts {
		b = pickleenc.AppendInt(b, p.Timestamp)
		b = pickleenc.AppendFloat(b, p.Value)
		b = pickleenc.AppendTuple2(b)
	}
	return pickleenc.AppendAppends(b)
}

func errorFrame(out []byte, msg string) []byte {
	return pickleenc.AppendFrame(out, func(b []byte) []byte {
		b = pickleenc.AppendProto(b)
		b = pickleenc.AppendEmptyDict(b)
		b = pickleenc.AppendMark(b)
		b = pickleenc.AppendString(b, "error")
		b = pickleenc.AppendString(b, strings.ToValidUTF8(msg, "\uFFFD"))
		b = pickleenc.AppendSetItems(b)
		return pickleenc.AppendStop(b)
	})
}
