package query

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// TestJSONPartsSameBytes: EncodeJSONParts' answer, read through Read
// (one byte at a time too), WriteTo and AppendTo, is AppendJSON's between
// the prefix and suffix, for small and parallel-encoded answers.
func TestJSONPartsSameBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	lists := [][]*Series{nil, jsonTestList(1, 5), jsonTestList(7, 2*parallelJSONPoints/7+1), jsonTestList(50, 2*parallelJSONPoints/50+1)}
	for li, list := range lists {
		for _, noNull := range []bool{false, true} {
			for _, jsonp := range []bool{false, true} {
				var prefix, suffix []byte
				if jsonp {
					prefix, suffix = []byte("cb("), []byte(")")
				}
				want := append(AppendJSON(append([]byte(nil), prefix...), list, noNull), suffix...)
				for how := range 4 {
					p := EncodeJSONParts(prefix, list, noNull, suffix)
					if p.Len() != len(want) {
						t.Fatalf("list %d noNull %v jsonp %v: Len %d, want %d", li, noNull, jsonp, p.Len(), len(want))
					}
					var got []byte
					var err error
					switch how {
					case 0:
						got, err = io.ReadAll(p)
					case 1:
						got, err = io.ReadAll(iotest.OneByteReader(p))
					case 2:
						var w bytes.Buffer
						_, err = p.WriteTo(&w)
						got = w.Bytes()
					case 3:
						got = p.AppendTo(nil)
					}
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("list %d noNull %v jsonp %v way %d: %d bytes differ from AppendJSON's %d", li, noNull, jsonp, how, len(got), len(want))
					}
					if err := p.Close(); err != nil || p.Len() != 0 {
						t.Fatalf("Close: %v, Len after %d", err, p.Len())
					}
				}
			}
		}
	}
}
