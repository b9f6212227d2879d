package carbonapipb

import (
	"strconv"
	"testing"
)

func benchSeries() []FetchResponseV3 {
	out := make([]FetchResponseV3, 100)
	for i := range out {
		vals := make([]float64, 360)
		for k := range vals {
			vals[k] = float64(k * i)
		}
		out[i] = FetchResponseV3{Name: "servers.host" + strconv.Itoa(i) + ".cpu.user", PathExpression: "servers.*.cpu.user", ConsolidationFunc: "average",
			StartTime: 1_700_000_000, StopTime: 1_700_003_600, StepTime: 10, Values: vals, RequestStartTime: 1_700_000_000, RequestStopTime: 1_700_003_600}
	}
	return out
}

// BenchmarkAppendMultiFetchV3 encodes 100 series x 360 points into a
// reused buffer.
func BenchmarkAppendMultiFetchV3(b *testing.B) {
	s := benchSeries()
	buf := AppendMultiFetchV3(nil, s)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMultiFetchV3(buf[:0], s)
	}
}

// BenchmarkAppendMultiFetchV2 is the same data in v2 (values + isAbsent).
func BenchmarkAppendMultiFetchV2(b *testing.B) {
	s3 := benchSeries()
	s := make([]FetchResponseV2, len(s3))
	for i, r := range s3 {
		s[i] = FetchResponseV2{Name: r.Name, StartTime: int32(r.StartTime), StopTime: int32(r.StopTime), StepTime: 10, Values: r.Values, IsAbsent: make([]bool, len(r.Values))}
	}
	buf := AppendMultiFetchV2(nil, s)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMultiFetchV2(buf[:0], s)
	}
}

// BenchmarkDecodeMultiFetchRequest decodes a 100-target request.
func BenchmarkDecodeMultiFetchRequest(b *testing.B) {
	reqs := make([]FetchRequest, 100)
	for i := range reqs {
		reqs[i] = FetchRequest{Name: "servers.host" + strconv.Itoa(i) + ".cpu.*", StartTime: 1_700_000_000, StopTime: 1_700_003_600, PathExpression: "sumSeries(servers.*.cpu.*)", MaxDataPoints: 1000}
	}
	buf := AppendMultiFetchRequest(nil, reqs)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMultiFetchRequest(buf); err != nil {
			b.Fatal(err)
		}
	}
}
