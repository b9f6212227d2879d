package statsd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"

	"github.com/panjf2000/gnet/v2"
)

// testServer is a minimal gnet engine wired the way the network core wires
// this package: statsd UDP and TCP plus the admin console in one engine, a
// Loop per event loop, Swap run on each loop with Execute at flush time.
type testServer struct {
	gnet.BuiltinEventEngine
	udpPort, tcpPort, adminPort int

	eng     gnet.Engine
	booted  chan struct{}
	stopped chan error

	mu      sync.Mutex
	order   []gnet.EventLoop
	holders map[gnet.EventLoop]*loopHolder

	cfgMu   sync.Mutex
	cfg     Config
	flusher *Flusher
	admin   *Admin

	packets atomic.Int64 // statsd packets handed to HandlePacket (test sync)
}

type loopHolder struct{ l *Loop }

func startTestServer(t testing.TB, cfg Config, loops int) *testServer {
	t.Helper()
	s := &testServer{
		udpPort: ingesttest.FreePort(t), tcpPort: ingesttest.FreePort(t), adminPort: ingesttest.FreePort(t),
		booted: make(chan struct{}), stopped: make(chan error, 1),
		holders: map[gnet.EventLoop]*loopHolder{},
	}
	s.reset(t, cfg, time.Now())
	// A port found free can be taken by a parallel test before gnet binds
	// it: try again with fresh ports.
	for attempt := 0; ; attempt++ {
		addrs := []string{
			fmt.Sprintf("udp://127.0.0.1:%d", s.udpPort),
			fmt.Sprintf("tcp://127.0.0.1:%d", s.tcpPort),
			fmt.Sprintf("tcp://127.0.0.1:%d", s.adminPort),
		}
		go func() {
			s.stopped <- gnet.Rotate(s, addrs, gnet.WithNumEventLoop(loops),
				gnet.WithReadBufferCap(1<<17), gnet.WithSocketRecvBuffer(8<<20), gnet.WithLogLevel(4))
		}()
		select {
		case <-s.booted:
		case err := <-s.stopped:
			if attempt < 5 && strings.Contains(fmt.Sprint(err), "address already in use") {
				s.udpPort, s.tcpPort, s.adminPort = ingesttest.FreePort(t), ingesttest.FreePort(t), ingesttest.FreePort(t)
				continue
			}
			t.Fatalf("gnet: %v", err)
		}
		break
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.eng.Stop(ctx)
		<-s.stopped
	})
	return s
}

// reset installs a fresh Flusher (and fresh Loops) for cfg.
func (s *testServer) reset(t testing.TB, cfg Config, startup time.Time) {
	t.Helper()
	f, err := NewFlusher(cfg, startup)
	if err != nil {
		t.Fatal(err)
	}
	s.cfgMu.Lock()
	s.cfg = cfg
	s.flusher = f
	s.admin = NewAdmin(f, s.runLoops)
	s.cfgMu.Unlock()
	s.runLoops(func(*Loop) {})
	s.mu.Lock()
	hs := make([]*loopHolder, 0, len(s.order))
	for _, el := range s.order {
		hs = append(hs, s.holders[el])
	}
	s.mu.Unlock()
	s.execAll(func(i int) { hs[i].l = NewLoop(&cfg) })
}

func (s *testServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

// loop returns the Loop of the calling event loop (registering it on first
// use). Called only on that loop's goroutine.
func (s *testServer) loop(el gnet.EventLoop) *Loop {
	s.mu.Lock()
	h := s.holders[el]
	if h == nil {
		s.cfgMu.Lock()
		cfg := s.cfg
		s.cfgMu.Unlock()
		h = &loopHolder{l: NewLoop(&cfg)}
		s.holders[el] = h
		s.order = append(s.order, el)
	}
	s.mu.Unlock()
	return h.l
}

func (s *testServer) OnTraffic(c gnet.Conn) gnet.Action {
	la := c.LocalAddr()
	if la.Network() == "udp" {
		buf, _ := c.Next(-1)
		s.loop(c.EventLoop()).HandlePacket(buf)
		s.packets.Add(1)
		return gnet.None
	}
	if la.(*net.TCPAddr).Port == s.adminPort {
		data, _ := c.Next(-1)
		data = bytes.Clone(data)
		s.cfgMu.Lock()
		a := s.admin
		s.cfgMu.Unlock()
		// The console waits for every loop (LoopRunner), including this one:
		// it must not run on the loop goroutine.
		go func() {
			var out bytes.Buffer
			quit := a.Handle(data, &out)
			c.AsyncWrite(out.Bytes(), func(c gnet.Conn, err error) error {
				if quit {
					return c.Close()
				}
				return nil
			})
		}()
		return gnet.None
	}
	buf, _ := c.Peek(-1)
	i := bytes.LastIndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > 1<<16 {
			return gnet.Close
		}
		return gnet.None
	}
	s.loop(c.EventLoop()).HandlePacket(buf[:i+1])
	c.Discard(i + 1)
	s.packets.Add(1)
	return gnet.None
}

// execAll runs fn(i) on the i-th registered loop's goroutine and waits.
func (s *testServer) execAll(fn func(i int)) {
	s.mu.Lock()
	els := append([]gnet.EventLoop(nil), s.order...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for i, el := range els {
		wg.Add(1)
		err := el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			defer wg.Done()
			fn(i)
			return nil
		}))
		if err != nil {
			wg.Done()
		}
	}
	wg.Wait()
}

// runLoops is the LoopRunner handed to the Admin.
func (s *testServer) runLoops(fn func(*Loop)) {
	s.mu.Lock()
	hs := make([]*loopHolder, 0, len(s.order))
	for _, el := range s.order {
		hs = append(hs, s.holders[el])
	}
	s.mu.Unlock()
	s.execAll(func(i int) { fn(hs[i].l) })
}

// flush swaps every loop and flushes into a collecting sink.
func (s *testServer) flush(now time.Time) *pointSink {
	s.mu.Lock()
	hs := make([]*loopHolder, 0, len(s.order))
	for _, el := range s.order {
		hs = append(hs, s.holders[el])
	}
	s.mu.Unlock()
	snaps := make([]*Snapshot, len(hs))
	s.execAll(func(i int) { snaps[i] = hs[i].l.Swap() })
	sink := &pointSink{vals: map[string]float64{}}
	s.cfgMu.Lock()
	f := s.flusher
	s.cfgMu.Unlock()
	f.Flush(snaps, now, sink)
	return sink
}

// waitPackets waits until n statsd packets in total have been handled.
func (s *testServer) waitPackets(t testing.TB, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.packets.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("server handled %d packets, want %d", s.packets.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

type point struct {
	name string
	ts   int64
	v    float64
}

type pointSink struct {
	list []point
	vals map[string]float64
	dups []string
}

func (p *pointSink) AddPoint(name []byte, ts int64, v float64) {
	n := string(name)
	if _, ok := p.vals[n]; ok {
		p.dups = append(p.dups, n)
	}
	p.vals[n] = v
	p.list = append(p.list, point{n, ts, v})
}

// text renders the points as etsy's graphite backend would send them.
func (p *pointSink) text() string {
	var b []byte
	for _, pt := range p.list {
		b = append(b, pt.name...)
		b = append(b, ' ')
		b = appendJSNumber(b, pt.v)
		b = append(b, ' ')
		b = strconv.AppendInt(b, pt.ts, 10)
		b = append(b, '\n')
	}
	return string(b)
}
