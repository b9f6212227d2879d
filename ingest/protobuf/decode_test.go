package protobuf

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

type pt struct {
	name string
	ts   uint32
	v    float64
}

func pbPoint(ts uint32, v float64) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ts))
	b = protowire.AppendTag(b, 2, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(v))
	return b
}

func pbMetric(name string, nameLast bool, pts ...[]byte) []byte {
	var b []byte
	if !nameLast {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, name)
	}
	for _, p := range pts {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	}
	if nameLast {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, name)
	}
	return b
}

func payload(ms ...[]byte) []byte {
	var b []byte
	for _, m := range ms {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

func decode(t *testing.T, frame []byte) ([]pt, int, error) {
	t.Helper()
	var got []pt
	n, bad, err := Decode(frame, func(name []byte, ts uint32, v float64) { got = append(got, pt{string(name), ts, v}) })
	if n != len(got) {
		t.Fatalf("n %d, got %d", n, len(got))
	}
	return got, bad, err
}

func TestDecode(t *testing.T) {
	// Unknown fields everywhere must be skipped.
	unknownPt := append(pbPoint(1700000002, -2.5), protowire.AppendTag(nil, 7, protowire.Fixed32Type)...)
	unknownPt = protowire.AppendFixed32(unknownPt, 9)
	m3 := pbMetric("c;t=1", false, unknownPt)
	m3 = protowire.AppendTag(m3, 9, protowire.VarintType)
	m3 = protowire.AppendVarint(m3, 300)
	frame := payload(
		pbMetric("a.b", false, pbPoint(1700000000, 1.5), pbPoint(1700000001, 2)),
		pbMetric("name.after.points", true, pbPoint(4294967295, 1e300)),
		m3,
		pbMetric("", false, pbPoint(5, 5)),
		pbMetric("nan", false, pbPoint(6, math.NaN())),
		pbMetric("zero", false, nil), // empty Point: ts 0, value 0
		pbMetric("nopoints", false),
	)
	frame = protowire.AppendTag(frame, 15, protowire.BytesType)
	frame = protowire.AppendBytes(frame, []byte("ignored"))
	got, bad, err := decode(t, frame)
	if err != nil {
		t.Fatal(err)
	}
	want := []pt{{"a.b", 1700000000, 1.5}, {"a.b", 1700000001, 2}, {"name.after.points", 4294967295, 1e300},
		{"c;t=1", 1700000002, -2.5}, {"zero", 0, 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) || bad != 2 {
		t.Errorf("got %v bad %d\nwant %v bad 2", got, bad, want)
	}
	if got, _, err := decode(t, nil); err != nil || len(got) != 0 {
		t.Errorf("empty payload: %v %v", got, err)
	}
}

func TestMalformed(t *testing.T) {
	good := payload(pbMetric("a", false, pbPoint(1, 1)))
	cases := map[string][]byte{
		"truncated":        good[:len(good)-1],
		"huge length":      {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"varint overflow":  {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
		"field zero":       {0x00, 0x01},
		"metrics as int":   {0x08, 0x01},
		"group wire type":  {0x0b},
		"name as varint":   payload([]byte{0x08, 0x01}),
		"point ts fixed64": payload(pbMetric("a", false, []byte{0x09, 1, 2, 3, 4, 5, 6, 7, 8})),
		"bad point len":    payload([]byte{0x12, 0x05, 0x08}),
	}
	for name, frame := range cases {
		got, _, err := decode(t, frame)
		if !errors.Is(err, ErrMalformed) || len(got) != 0 {
			t.Errorf("%s: err %v, %d points", name, err, len(got))
		}
	}
}

func TestDecodeDoesNotAllocate(t *testing.T) {
	var ms [][]byte
	for i := 0; i < 100; i++ {
		ms = append(ms, pbMetric(fmt.Sprintf("servers.host%02d.cpu", i), false, pbPoint(uint32(1700000000+i), float64(i))))
	}
	frame := payload(ms...)
	sum := 0.0
	if n := testing.AllocsPerRun(50, func() {
		Decode(frame, func(_ []byte, _ uint32, v float64) { sum += v })
	}); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(payload(pbMetric("a.b", false, pbPoint(1700000000, 1.5), pbPoint(1700000001, 2))))
	f.Add(payload(pbMetric("x", true, pbPoint(1, 2))))
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, frame []byte) {
		n, bad, err := Decode(frame, func(name []byte, ts uint32, v float64) {
			if len(name) == 0 || v != v {
				t.Fatal("empty name or NaN delivered")
			}
		})
		if err != nil && n+bad != 0 {
			t.Fatal("points delivered with an error")
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var ms [][]byte
	for i := 0; i < 500; i++ {
		ms = append(ms, pbMetric(fmt.Sprintf("servers.host%04d.cpu.total.user", i), false, pbPoint(uint32(1700000000+i), float64(i)/2)))
	}
	frame := payload(ms...)
	sum := 0.0
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for i := 0; i < b.N; i++ {
		Decode(frame, func(_ []byte, _ uint32, v float64) { sum += v })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/point")
}
