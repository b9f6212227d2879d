package carbonlink

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/pickle"
	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/query/pickleenc"
	"github.com/plumbago/plumbago/storage"
)

// memCache is a small real cache: name -> points.
type memCache struct {
	mu sync.Mutex
	m  map[string][]storage.Point
}

func (c *memCache) Points(name string, dst []storage.Point) []storage.Point {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(dst, c.m[name]...)
}

type methods map[string]string

func (m methods) AggregationMethod(name string) (string, error) {
	if v, ok := m[name]; ok {
		return v, nil
	}
	return "", storage.ErrNotFound
}

// serve runs a loopback TCP listener feeding each connection through its own
// Server.Handle, the way the gnet core does from OnTraffic.
func serve(t *testing.T, c Cache, md Metadata, st *Stats) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				s := &Server{Cache: c, Metadata: md, Stats: st}
				var in, out []byte
				buf := make([]byte, 7) // tiny reads: exercise partial frames
				for {
					n, err := conn.Read(buf)
					if err != nil {
						return
					}
					in = append(in, buf[:n]...)
					used, o, herr := s.Handle(in, out[:0])
					out = o
					in = in[:copy(in, in[used:])]
					if len(out) > 0 {
						if _, err := conn.Write(out); err != nil {
							return
						}
					}
					if herr != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// pyClient asks every request type in both pickle protocols, as
// graphite-web's CarbonLinkPool would.
const pyClient = ingesttest.PyCarbonlinkClient + `
for proto in (2, -1):
    r = query(dict(type='cache-query', metric='a.b.c'), proto)
    print(sorted(r['datapoints']))
    print(query(dict(type='cache-query', metric='missing'), proto))
    r = query(dict(type='cache-query-bulk', metrics=['a.b.c', 'x;t=1', 'missing']), proto)
    print(sorted((k, sorted(v)) for k, v in r['datapointsByMetric'].items()))
    print(query(dict(type='get-metadata', metric='a.b.c', key='aggregationMethod'), proto))
    print(query(dict(type='bogus', metric='a.b.c'), proto))
    print(sorted(query(dict(type='set-metadata', metric='a.b.c', key='aggregationMethod', value='sum'), proto)))
`

func TestPythonCarbonlinkClient(t *testing.T) {
	c := &memCache{m: map[string][]storage.Point{
		"a.b.c": {{Timestamp: 1700000060, Value: 2.5}, {Timestamp: 1700000000, Value: -1}},
		"x;t=1": {{Timestamp: 1700000010, Value: 1e300}},
	}}
	var st Stats
	addr := serve(t, c, methods{"a.b.c": "sum"}, &st)
	got := testenv.RunPython(t, pyClient, addr)
	once := `[(1700000000, -1.0), (1700000060, 2.5)]
{'datapoints': []}
[('a.b.c', [(1700000000, -1.0), (1700000060, 2.5)]), ('missing', []), ('x;t=1', [(1700000010, 1e+300)])]
{'value': 'sum'}
{'error': 'Invalid request type "bogus"'}
['error']
`
	if got != once+once {
		t.Errorf("python client got:\n%s\nwant:\n%s", got, once+once)
	}
	if st.Queries.Load() != 4 || st.BulkQueries.Load() != 2 || st.BulkMetrics.Load() != 6 || st.MetadataCalls.Load() != 2 {
		t.Errorf("stats: q=%d bulk=%d size=%d meta=%d", st.Queries.Load(), st.BulkQueries.Load(), st.BulkMetrics.Load(), st.MetadataCalls.Load())
	}
}

func TestHandleStream(t *testing.T) {
	c := &memCache{m: map[string][]storage.Point{"m": {{Timestamp: 10, Value: 1}}}}
	s := &Server{Cache: c}
	req := func(body string) []byte {
		return pickleenc.AppendFrame(nil, func(b []byte) []byte { return append(b, body...) })
	}
	q := req("\x80\x02}(X\x04\x00\x00\x00typeX\x0b\x00\x00\x00cache-queryX\x06\x00\x00\x00metricX\x01\x00\x00\x00mu.")
	evil := req("cos\nsystem\n(S'echo hi'\ntR.")
	stream := append(append(append([]byte{}, q...), evil...), q...)
	// Feed everything but the last byte: two answers, last frame pending.
	used, out, err := s.Handle(stream[:len(stream)-1], nil)
	if err != nil || used != len(q)+len(evil) {
		t.Fatalf("used %d err %v", used, err)
	}
	d := pickle.Decoder{AllowDicts: true}
	var answers []string
	for len(out) > 0 {
		n, _ := pickle.FrameLen(out, 1<<20)
		r, err := d.Decode(out[4:n])
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := r.Get("error"); ok {
			answers = append(answers, "error:"+strings.SplitN(string(v.Bytes()), ":", 2)[0])
		} else if v, ok := r.Get("datapoints"); ok {
			ts, _ := v.Index(0).Index(0).Int()
			val, _ := v.Index(0).Index(1).Float()
			answers = append(answers, fmt.Sprintf("%d=%g", ts, val))
		}
		out = out[n:]
	}
	sort.Strings(answers)
	if fmt.Sprint(answers) != "[10=1 error:invalid request]" {
		t.Errorf("answers %v", answers)
	}
	used2, out, err := s.Handle(stream[used:], nil)
	if err != nil || used2 != len(q) || len(out) == 0 {
		t.Fatalf("rest: used %d err %v out %d", used2, err, len(out))
	}
	// A huge length prefix is fatal for the connection.
	if _, _, err := s.Handle([]byte{0x7f, 0, 0, 0}, nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("huge prefix: %v", err)
	}
}

// TestBulkAnswerKeepsBytesNames: a bulk request may name a metric with a
// pickle bytes object that is not UTF-8 (fuzzing found b'\xca'); the answer
// holds it back as bytes, as carbon's does, not as a str no unpickler reads
// (the fuzz input is testdata/fuzz/FuzzHandle/ee918222d0ac9fdb).
func TestBulkAnswerKeepsBytesNames(t *testing.T) {
	c := &memCache{m: map[string][]storage.Point{"\xca": {{Timestamp: 10, Value: 1}}, "m": nil}}
	s := &Server{Cache: c}
	req := pickleenc.AppendFrame(nil, func(b []byte) []byte {
		return append(b, "\x80\x02}(X\x04\x00\x00\x00typeX\x10\x00\x00\x00cache-query-bulk"+
			"X\x07\x00\x00\x00metrics](C\x01\xcaX\x01\x00\x00\x00meu."...)
	})
	used, out, err := s.Handle(req, nil)
	if err != nil || used != len(req) {
		t.Fatalf("used %d of %d, err %v", used, len(req), err)
	}
	want := "\x00\x00\x00\x39\x80\x02}(X\x12\x00\x00\x00datapointsByMetric}(" +
		"C\x01\xca](K\x0aG\x3f\xf0\x00\x00\x00\x00\x00\x00\x86e" + // b'\xca': [(10, 1.0)]
		"X\x01\x00\x00\x00m]" + // 'm': []
		"uu."
	if string(out) != want {
		t.Fatalf("answer %q\nwant   %q", out, want)
	}
}
