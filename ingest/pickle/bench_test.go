package pickle

import "testing"

func BenchmarkDecodePoints(b *testing.B) {
	for _, proto := range []int{2, 4} {
		frame := pyFrames(b, `
import pickle
data = [("servers.host%04d.cpu.total.user" % i, (1700000000 + i, i * 0.5)) for i in range(500)]
print(pickle.dumps(data, protocol=`+string(rune('0'+proto))+`).hex())
`)[0]
		b.Run("proto"+string(rune('0'+proto)), func(b *testing.B) {
			var d Decoder
			var sum float64
			sink := func(name []byte, ts, v float64) { sum += v }
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := d.Points(frame, sink); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/point")
		})
	}
}
