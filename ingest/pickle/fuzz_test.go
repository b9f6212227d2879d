package pickle

import (
	"encoding/hex"
	"testing"
)

func FuzzDecode(f *testing.F) {
	seeds := []string{
		// [("a.b", (1, 1.5))] protocol 2, 4 and 0
		"80025d71005803000000612e6271014b01473ff800000000000086710286710361",
		"(lp0\n(S'a'\n(I1\nF2.5\nttp1\na.",
		"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00]\x94\x8c\x03a.b\x94K\x01G?\xf8\x00\x00\x00\x00\x00\x00\x86\x94\x86\x94a.",
		"cos\nsystem\n(S'echo hi'\ntR.",
		"\x80\x02}q\x00(X\x04\x00\x00\x00typeq\x01X\x0b\x00\x00\x00cache-queryq\x02u.",
		"]q\x00]q\x01ah\x01h\x00a0.",
		"(lp0\nVcaf\\u00e9\np1\na.",
	}
	for _, s := range seeds {
		if b, err := hex.DecodeString(s); err == nil {
			f.Add(b)
		} else {
			f.Add([]byte(s))
		}
	}
	var d Decoder
	var rd Decoder
	var req CarbonlinkRequest
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, bad, err := d.Points(frame, func(name []byte, ts, v float64) {
			if v != v {
				t.Fatal("NaN delivered")
			}
		})
		if err != nil && (n != 0 || bad != 0) {
			t.Fatalf("error %v with n=%d bad=%d", err, n, bad)
		}
		if len(d.vals) > len(frame)+1 {
			t.Fatalf("%d values from %d bytes", len(d.vals), len(frame))
		}
		_ = rd.Request(frame, &req)
	})
}
