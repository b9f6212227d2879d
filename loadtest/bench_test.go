package loadtest

import (
	"io"
	"net"
	"testing"
)

// BenchmarkBuildCarbonPayload measures building plaintext W1-shaped payload,
// per point (the work done before the clock starts).
func BenchmarkBuildCarbonPayload(b *testing.B) {
	b.ReportAllocs()
	spec := buildSpec{Proto: CarbonTCP, Shape: Shape{Prefix: "loadtest.w1", Metrics: 100_000}, Conns: 1,
		Steps: 1, BaseTS: 1700000000, Step: 1, ChunkPoints: 1 << 30, ChunkBytes: 64 << 10}
	spec.Steps = max(1, b.N/spec.Shape.Metrics)
	b.ResetTimer()
	pl, err := build(spec, 0)
	if err != nil || pl.points == 0 {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pl.points), "ns/point")
}

// BenchmarkSendTCP measures the send loop alone: prebuilt 64 KiB writes of
// plaintext lines to a loopback reader that discards them. One op is one
// point.
func BenchmarkSendTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pl, err := build(buildSpec{Proto: CarbonTCP, Shape: Shape{Prefix: "loadtest.w1", Metrics: 100_000}, Conns: 1,
		Steps: 1, BaseTS: 1700000000, Step: 1, ChunkPoints: 1 << 30, ChunkBytes: 64 << 10}, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pl.buf)) / pl.points)
	b.ResetTimer()
	sent := 0
	for sent < b.N {
		for k := range pl.chunks {
			ch := &pl.chunks[k]
			if _, err := conn.Write(pl.buf[ch.off:ch.end]); err != nil {
				b.Fatal(err)
			}
			sent += int(ch.points)
			if sent >= b.N {
				break
			}
		}
	}
}
