package carbonlink

import (
	"testing"

	"github.com/plumbago/plumbago/ingest/pickle"
	"github.com/plumbago/plumbago/query/pickleenc"
	"github.com/plumbago/plumbago/storage"
)

func FuzzHandle(f *testing.F) {
	req := func(body string) []byte {
		return pickleenc.AppendFrame(nil, func(b []byte) []byte { return append(b, body...) })
	}
	f.Add(req("\x80\x02}(X\x04\x00\x00\x00typeX\x0b\x00\x00\x00cache-queryX\x06\x00\x00\x00metricX\x01\x00\x00\x00mu."))
	f.Add(req("\x80\x02}(X\x04\x00\x00\x00typeX\x10\x00\x00\x00cache-query-bulkX\x07\x00\x00\x00metrics](X\x01\x00\x00\x00mX\x01\x00\x00\x00neu."))
	f.Add(req("cos\nsystem\n(S'echo hi'\ntR."))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	c := &memCache{m: map[string][]storage.Point{"m": {{Timestamp: 1, Value: 2}}}}
	s := &Server{Cache: c, Metadata: methods{"m": "sum"}}
	var d pickle.Decoder
	d.AllowDicts = true
	f.Fuzz(func(t *testing.T, in []byte) {
		used, out, err := s.Handle(in, nil)
		if used < 0 || used > len(in) {
			t.Fatalf("consumed %d of %d", used, len(in))
		}
		if err != nil {
			return
		}
		// Every answer is a well-formed frame holding a dict.
		for len(out) > 0 {
			n, ferr := pickle.FrameLen(out, 1<<30)
			if ferr != nil || n == 0 || n > len(out) {
				t.Fatalf("bad answer framing")
			}
			r, derr := d.Decode(out[4:n])
			if derr != nil || r.Kind() != pickle.KindDict {
				t.Fatalf("answer does not decode to a dict: %v", derr)
			}
			out = out[n:]
		}
	})
}
