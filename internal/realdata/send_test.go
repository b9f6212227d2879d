package realdata

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"testing"
)

// TestSendPlaintext sends a dataset as Graphite plaintext to
// $PLUMBAGO_REALDATA_SEND (host:port), so another server (VictoriaMetrics'
// -graphiteListenAddr, carbon) stores the very points storage/pebble's
// BenchmarkRealdataBytes measures: $PLUMBAGO_REALDATA_SET (gauges or
// collectd) of $PLUMBAGO_REALDATA_SERIES series (10,000 by default),
// 2,160 steps of 10 s ending at 1,700,000,000, seed 1. Skipped unless
// PLUMBAGO_REALDATA_SEND is set.
func TestSendPlaintext(t *testing.T) {
	addr := os.Getenv("PLUMBAGO_REALDATA_SEND")
	if addr == "" {
		t.Skip("PLUMBAGO_REALDATA_SEND not set")
	}
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("PLUMBAGO_REALDATA_SERIES")); err == nil && v > 0 {
		n = v
	}
	d := Gauges(1, n, 2)
	if os.Getenv("PLUMBAGO_REALDATA_SET") == "collectd" {
		d = Collectd(1, (n+37)/38)
	}
	const steps, now = 2160, 1_700_000_000
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(conn, 1<<20)
	var line []byte
	sent := 0
	for s := 0; s < steps; s++ {
		ts := strconv.AppendInt(nil, now-steps*10+int64(s)*10, 10)
		for i := 0; i < d.Len(); i++ {
			v, ok := d.Next(i)
			if !ok {
				continue
			}
			line = append(line[:0], d.Name(i)...)
			line = append(line, ' ')
			line = strconv.AppendFloat(line, v, 'f', -1, 64)
			line = append(line, ' ')
			line = append(line, ts...)
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				t.Fatal(err)
			}
			sent++
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d points", sent)
}
