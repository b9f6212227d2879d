package pickle_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest"
	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/ingest/pickle"
)

type point = ingesttest.Point

func frame(body string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestHandlerOverTheCore serves the pickle handler on the real gnet core:
// frames split across writes, a hostile frame that is skipped while the
// connection carries on, bad items, -1 timestamps, and an oversized length
// prefix that closes only that connection.
func TestHandlerOverTheCore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	col := &ingesttest.Collector{}
	h := &pickle.Handler{MaxFrame: 1000, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	srv, err := ingest.NewServer(ingest.Config{
		EventLoops: 2,
		NewSink:    col.NewSink,
	}, []ingest.Listener{{Name: "pickle", Network: "tcp", Addr: addr, Handler: h}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(context.Background())

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	good := frame("\x80\x02]q\x00(X\x03\x00\x00\x00a.bq\x01J\x00\xf1SeG?\xf8\x00\x00\x00\x00\x00\x00\x86q\x02\x86q\x03X\x03\x00\x00\x00c.dJ\xff\xff\xff\xffK\x07\x86\x86e.")
	evil := frame("cos\nsystem\n(S'echo hi'\ntR.")
	badItems := frame("]((X\x01\x00\x00\x00x(NNtt(X\x00\x00\x00\x00(K\x01K\x01tt(X\x01\x00\x00\x00y(J\xfe\xff\xff\xffK\x01tt(X\x01\x00\x00\x00z(J\xff\xff\xff\xffK\x09tte.")
	stream := append(append(append([]byte{}, good...), evil...), badItems...)
	stream = append(stream, good...)
	for i := 0; i < len(stream); i += 7 { // dribble: frames split across reads
		end := min(i+7, len(stream))
		if _, err := c.Write(stream[i:end]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	got := col.Wait(t, 5)
	want := []point{{Name: "a.b", TS: 1700000000, V: 1.5}, {Name: "c.d", TS: 1700000000, V: 7}, {Name: "z", TS: 1700000000, V: 9}, {Name: "a.b", TS: 1700000000, V: 1.5}, {Name: "c.d", TS: 1700000000, V: 7}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("points %v\nwant   %v", got, want)
	}
	// Oversized frame: the server closes this connection.
	if _, err := c.Write([]byte{0, 0, 0x10, 0}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after oversized frame: %v, want EOF", err)
	}
	c.Close()
	counts := map[pickle.Reason]uint64{pickle.ReasonUnsafe: 1, pickle.ReasonFrameLimit: 1, pickle.ReasonItem: 1, pickle.ReasonName: 1, pickle.ReasonTimestamp: 1}
	for r, n := range counts {
		if got := h.Rejected(r); got != n {
			t.Errorf("%s = %d, want %d", r, got, n)
		}
	}
	if h.Frames() != 4 || h.Points() != 5 {
		t.Errorf("frames %d points %d", h.Frames(), h.Points())
	}
}
