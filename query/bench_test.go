package query

import (
	"context"
	"fmt"
	"testing"

	"github.com/plumbago/plumbago/query/target"
)

func BenchmarkParse(b *testing.B) {
	const t = `aliasSub(sumSeries(scale(servers.web-{01,02,03}.cpu.*.user, 0.5), a.b.c), "(^.*$)", "\1 A")`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := target.Parse(t); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSource holds 1,000 series × 6 h at 10 s.
func benchSource() *memSource {
	m := newMemSource()
	for i := 0; i < 1000; i++ {
		k := float64(i)
		m.add(fmt.Sprintf("servers.s%04d.cpu", i), 10, func(ts int64) float64 { return k + float64(ts%60) })
	}
	return m
}

var benchReq = Request{From: 1_700_000_000 - 6*3600, Until: 1_700_000_000, Now: 1_700_000_000}

func BenchmarkEvalSumSeries1000x6h(b *testing.B) {
	ev := NewEvaluator(benchSource(), Limits{})
	b.ReportAllocs()
	for b.Loop() {
		list, err := ev.Eval(context.Background(), benchReq, []string{"sumSeries(servers.*.cpu)"})
		if err != nil || len(list) != 1 || len(list[0].Values) != 2160 {
			b.Fatalf("%v %d", err, len(list))
		}
	}
}

func BenchmarkJSON1000x6h(b *testing.B) {
	ev := NewEvaluator(benchSource(), Limits{})
	list, err := ev.Eval(context.Background(), benchReq, []string{"servers.*.cpu"})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64<<20)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendJSON(nil, list, false))))
	for b.Loop() {
		buf = AppendJSON(buf[:0], list, false)
	}
}

func BenchmarkJSONMaxDataPoints(b *testing.B) {
	ev := NewEvaluator(benchSource(), Limits{})
	buf := make([]byte, 0, 64<<20)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		list, err := ev.Eval(context.Background(), benchReq, []string{"servers.*.cpu"})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		ApplyMaxDataPoints(list, 300)
		buf = AppendJSON(buf[:0], list, false)
	}
}
