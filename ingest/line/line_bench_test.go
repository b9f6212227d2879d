package line

import (
	"bytes"
	"strconv"
	"testing"
)

var sinkTS int64

func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	for i := 0; i < 1000; i++ {
		buf.WriteString("servers.host" + strconv.Itoa(i%100) + ".cpu.metric" + strconv.Itoa(i) + " " + strconv.Itoa(i%97) + " " + strconv.Itoa(1700000000+i) + "\n")
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n"))
	b.SetBytes(int64(buf.Len()) / int64(len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, ts, err := Parse(lines[i%len(lines)], 0)
		if err != nil {
			b.Fatal(err)
		}
		sinkTS += ts
	}
}

func BenchmarkParseFloatValue(b *testing.B) {
	line := []byte("servers.host01.cpu.user 42.123456 1700000000.5")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _, ts, _ := Parse(line, 0)
		sinkTS += ts
	}
}

// BenchmarkParseW1 parses the lines of the record's W1 load (loadtest
// --scenario W1: "loadtest.w1.<metric> <0-99> <unix time>").
func BenchmarkParseW1(b *testing.B) {
	var lines [][]byte
	for i := 0; i < 1000; i++ {
		lines = append(lines, []byte("loadtest.w1.m"+strconv.Itoa(100000+i*97)+" "+strconv.Itoa(i%100)+" "+strconv.Itoa(1765152000+i)))
	}
	b.SetBytes(int64(len(lines[0])))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _, ts, err := Parse(lines[i%len(lines)], 0)
		if err != nil {
			b.Fatal(err)
		}
		sinkTS += ts
		i++
	}
}
