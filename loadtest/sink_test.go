package loadtest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// testSink is a loopback receiver that decodes what the generator sends and
// counts points exactly, exposing the count as plumbago_points_committed_total.
type testSink struct {
	t        *testing.T
	mu       sync.Mutex
	points   int64
	packets  int64 // datagrams or pickle frames
	bad      []string
	seen     map[string]int // "name ts" -> occurrences (carbon/pickle)
	addr     string
	http     *httptest.Server
	closers  []io.Closer
	wg       sync.WaitGroup
	statsdTy map[string]int
	values   map[string][][2]float64 // carbon name -> (value, ts) pairs, for /render
	renders  int
	scrapes  int // reads of /metrics
}

func newTestSink(t *testing.T, proto Protocol) *testSink {
	s := &testSink{t: t, seen: map[string]int{}, statsdTy: map[string]int{}, values: map[string][][2]float64{}}
	s.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.URL.Path == "/render" {
			// Exact names only; globs and functions answer an empty list.
			s.renders++
			target := r.URL.Query().Get("target")
			if r.URL.Query().Get("format") != "json" || target == "" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			dps, ok := s.values[target]
			if !ok {
				fmt.Fprint(w, "[]")
				return
			}
			fmt.Fprintf(w, `[{"target": %q, "datapoints": [`, target)
			for i, dp := range dps {
				if i > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, "[%g, %d]", dp[0], int64(dp[1]))
			}
			fmt.Fprint(w, ", [null, 1]]}]")
			return
		}
		s.scrapes++
		fmt.Fprintf(w, "# TYPE plumbago_points_committed_total counter\nplumbago_points_committed_total %d\n", s.points)
		fmt.Fprintf(w, "plumbago_points_committed_total_other 99\nplumbago_points_dropped_total{reason=\"a\"} 0\n")
	}))
	t.Cleanup(s.close)
	if proto.stream() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.addr = ln.Addr().String()
		s.closers = append(s.closers, ln)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				s.closers = append(s.closers, c)
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					defer c.Close()
					if proto == Pickle {
						s.readPickle(c)
					} else {
						s.readLines(proto, c)
					}
				}()
			}
		}()
		return s
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = pc.(*net.UDPConn).SetReadBuffer(8 << 20)
	s.addr = pc.LocalAddr().String()
	s.closers = append(s.closers, pc)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.packets++
			s.mu.Unlock()
			for _, line := range bytes.Split(buf[:n], []byte{'\n'}) {
				if len(line) > 0 {
					s.line(proto, line)
				}
			}
		}
	}()
	return s
}

func (s *testSink) close() {
	for _, c := range s.closers {
		c.Close()
	}
	s.wg.Wait()
	s.http.Close()
}

func (s *testSink) line(proto Protocol, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if proto.statsd() {
		// key:value|type[|@rate][|#tags]
		colon := bytes.IndexByte(line, ':')
		parts := bytes.Split(line[colon+1:], []byte{'|'})
		if colon <= 0 || len(parts) < 2 {
			s.bad = append(s.bad, string(line))
			return
		}
		if _, err := strconv.ParseFloat(string(parts[0]), 64); err != nil {
			s.bad = append(s.bad, string(line))
			return
		}
		s.statsdTy[string(parts[1])]++
		s.points++
		return
	}
	f := bytes.Fields(line)
	if len(f) != 3 {
		s.bad = append(s.bad, string(line))
		return
	}
	v, err := strconv.ParseFloat(string(f[1]), 64)
	if err != nil {
		s.bad = append(s.bad, string(line))
		return
	}
	ts, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		s.bad = append(s.bad, string(line))
		return
	}
	s.values[string(f[0])] = append(s.values[string(f[0])], [2]float64{v, float64(ts)})
	s.seen[string(f[0])+" "+string(f[2])]++
	s.points++
}

func (s *testSink) readLines(proto Protocol, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			s.line(proto, sc.Bytes())
		}
	}
}

// readPickle decodes the frames the generator writes: protocol 2, a list of
// (BINUNICODE name, (BININT ts, BININT1 value)) tuples.
func (s *testSink) readPickle(r io.Reader) {
	br := bufio.NewReader(r)
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		frame := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(br, frame); err != nil {
			s.mu.Lock()
			s.bad = append(s.bad, "short frame")
			s.mu.Unlock()
			return
		}
		items, err := decodeTestPickle(frame)
		s.mu.Lock()
		s.packets++
		if err != nil {
			s.bad = append(s.bad, err.Error())
		}
		for _, it := range items {
			s.seen[it]++
			s.points++
		}
		s.mu.Unlock()
	}
}

func decodeTestPickle(b []byte) ([]string, error) {
	if len(b) < 4 || b[0] != 0x80 || b[1] != 2 || b[2] != ']' || b[3] != '(' {
		return nil, errors.New("bad pickle header")
	}
	b = b[4:]
	var out []string
	for len(b) > 0 && b[0] == 'X' {
		if len(b) < 5 {
			return out, errors.New("truncated name")
		}
		n := int(binary.LittleEndian.Uint32(b[1:]))
		if len(b) < 5+n+5+2+2 {
			return out, errors.New("truncated item")
		}
		name := string(b[5 : 5+n])
		b = b[5+n:]
		if b[0] != 'J' || b[5] != 'K' || b[7] != 0x86 || b[8] != 0x86 {
			return out, errors.New("bad item opcodes")
		}
		ts := int32(binary.LittleEndian.Uint32(b[1:]))
		out = append(out, name+" "+strconv.Itoa(int(ts)))
		b = b[9:]
	}
	if string(b) != "e." {
		return out, fmt.Errorf("bad pickle trailer %q", b)
	}
	return out, nil
}

func (s *testSink) snapshot() (points, packets int64, bad []string, dup int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.seen {
		if n > 1 {
			dup++
		}
	}
	return s.points, s.packets, append([]string(nil), s.bad...), dup
}
