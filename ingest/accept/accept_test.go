package accept_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/accept"
)

func listen(t *testing.T) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln.(*net.TCPListener)
}

// exhaust lowers RLIMIT_NOFILE to just above the highest open descriptor
// and fills the holes below it, leaving room descriptors free. restore
// closes the fillers and puts the limit back (safe to call twice).
func exhaust(t *testing.T, room int) (restore func()) {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	highest := 0
	for _, e := range ents {
		var fd int
		if _, err := fmt.Sscan(e.Name(), &fd); err == nil && fd > highest {
			highest = fd
		}
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = uint64(highest + 1)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fillers []int
	for {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		fillers = append(fillers, fd)
	}
	for range min(room, len(fillers)) {
		syscall.Close(fillers[len(fillers)-1])
		fillers = fillers[:len(fillers)-1]
	}
	done := false
	return func() {
		if done {
			return
		}
		done = true
		for _, fd := range fillers {
			syscall.Close(fd)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Fatal(err)
		}
	}
}

// syncBuffer is a log sink safe for the accept goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSurvivesEMFILE queues connections, lowers RLIMIT_NOFILE so only a few
// can be accepted, and checks the listener counts EMFILE, reports Failing,
// logs once, and accepts the rest once descriptors are free again.
func TestSurvivesEMFILE(t *testing.T) {
	ln := listen(t)
	var logs syncBuffer
	al := accept.New(ln, accept.Config{Name: "carbon", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer al.Close()

	const queued = 20
	var clients []net.Conn
	for range queued {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()

	restore := exhaust(t, 5)
	defer restore()

	accepted := make(chan net.Conn, queued)
	go func() {
		for {
			c, release, err := al.AcceptTCP()
			if err != nil {
				close(accepted)
				return
			}
			_ = release
			al.OK()
			accepted <- c
		}
	}()
	var held []net.Conn
	deadline := time.Now().Add(20 * time.Second)
	for al.Stats().Errors[accept.ReasonEMFILE] < 3 {
		if time.Now().After(deadline) {
			restore()
			t.Fatalf("no EMFILE counted; stats %+v", al.Stats())
		}
		select {
		case c := <-accepted:
			held = append(held, c)
		case <-time.After(10 * time.Millisecond):
		}
	}
	failing := al.Failing()
	restore() // before t.Fatal: the test runner needs descriptors
	if failing == nil || !strings.Contains(failing.Error(), "too many open files") {
		t.Errorf("Failing() = %v; want the EMFILE error", failing)
	}
	if len(held) >= queued {
		t.Fatalf("accepted all %d connections under the low limit", len(held))
	}
	// Descriptors are free again (the limit is back): every queued
	// connection is accepted without anything else happening.
	for len(held) < queued {
		select {
		case c := <-accepted:
			held = append(held, c)
		case <-time.After(20 * time.Second):
			t.Fatalf("accepted %d of %d after descriptors came back", len(held), queued)
		}
	}
	for _, c := range held {
		c.Close()
	}
	if err := al.Failing(); err != nil {
		t.Errorf("Failing() after recovery = %v", err)
	}
	st := al.Stats()
	if st.Accepted != queued || st.Rejected != 0 || st.Errors[accept.ReasonEMFILE] < 3 {
		t.Errorf("stats %+v; want %d accepted, 0 rejected, >= 3 emfile", st, queued)
	}
	out := logs.String()
	if n := strings.Count(out, "accepting connections failed"); n != 1 {
		t.Errorf("%d failure lines logged; want 1 (rate limit %v):\n%s", n, accept.LogEvery, out)
	}
	if !strings.Contains(out, "accepting connections again") || !strings.Contains(out, "listener=carbon") {
		t.Errorf("log lacks the recovery line:\n%s", out)
	}
}

// TestReserveAnswersWhileExhausted: with Reserve, one connection is
// accepted on the spare descriptor while the process is out of them.
func TestReserveAnswersWhileExhausted(t *testing.T) {
	ln := listen(t)
	al := accept.New(ln, accept.Config{Name: "http", Reserve: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer al.Close()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	restore := exhaust(t, 0)
	defer restore()
	type res struct {
		c   net.Conn
		err error
	}
	got := make(chan res, 1)
	go func() { c, err := al.Accept(); got <- res{c, err} }()
	var r res
	select {
	case r = <-got:
	case <-time.After(20 * time.Second):
	}
	errs := al.Stats().Errors[accept.ReasonEMFILE]
	restore()
	if r.c == nil {
		t.Fatalf("no connection accepted on the spare descriptor (err %v)", r.err)
	}
	defer r.c.Close()
	if errs != 1 {
		t.Errorf("emfile count %d; want 1", errs)
	}
	// The connection works.
	if _, err := c1.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(r.c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

// TestLimitRejectsNewKeepsOld: over the limit a new connection is closed at
// once and counted; the ones already open keep working; a slot freed by
// Close is taken again.
func TestLimitRejectsNewKeepsOld(t *testing.T) {
	ln := listen(t)
	lim := accept.NewLimit(2)
	al := accept.New(ln, accept.Config{Name: "carbon", Limit: lim, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer al.Close()
	served := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := al.Accept()
			if err != nil {
				return
			}
			served <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial(), dial()
	sa, sb := <-served, <-served
	// The server resets the connection: the dial or the first read fails.
	if over, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		over.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := over.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("connection over the limit: read err %v; want it closed by the server", err)
		}
		over.Close()
	}
	if st := al.Stats(); st.Rejected != 1 || st.Accepted != 2 || lim.Open() != 2 {
		t.Fatalf("stats %+v open %d; want 1 rejected, 2 accepted, 2 open", st, lim.Open())
	}
	for _, p := range [][2]net.Conn{{a, sa}, {b, sb}} {
		if _, err := p[0].Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(p[1], make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
	}
	sa.Close()
	sa.Close() // a second Close gives nothing back twice
	a.Close()
	if lim.Open() != 1 {
		t.Fatalf("open %d after one close; want 1", lim.Open())
	}
	c := dial()
	defer c.Close()
	select {
	case sc := <-served:
		sc.Close()
	case <-time.After(20 * time.Second):
		t.Fatal("freed slot not reused")
	}
	b.Close()
	sb.Close()
}
