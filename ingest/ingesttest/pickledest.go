package ingesttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"testing"

	"github.com/plumbago/plumbago/ingest/pickle"
)

// NameTS is a point's name and timestamp: the key of the points a test
// compares.
type NameTS struct {
	Name string
	TS   int64
}

// CollectPickle accepts the connections a carbon daemon makes to ln, its
// destination (carbon-aggregator and carbon-relay send carbon's pickle
// protocol), and keeps the last value sent for each name and timestamp;
// the function it returns copies what has arrived so far. A frame that
// does not decode fails the test.
func CollectPickle(t testing.TB, ln net.Listener) func() map[NameTS]float64 {
	var mu sync.Mutex
	got := map[NameTS]float64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				var d pickle.Decoder
				for {
					var hdr [4]byte
					if _, err := io.ReadFull(r, hdr[:]); err != nil {
						return
					}
					n, _ := pickle.FrameLen(hdr[:], pickle.DefaultMaxFrame)
					body := make([]byte, n-4)
					if _, err := io.ReadFull(r, body); err != nil {
						return
					}
					_, _, err := d.Points(body, func(name []byte, ts, v float64) {
						mu.Lock()
						got[NameTS{string(name), int64(ts)}] = v
						mu.Unlock()
					})
					if err != nil {
						t.Errorf("decoding a pickle frame from %s: %v", c.RemoteAddr(), err)
					}
				}
			}()
		}
	}()
	return func() map[NameTS]float64 {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[NameTS]float64, len(got))
		for k, v := range got {
			out[k] = v
		}
		return out
	}
}

// DiffPoints lists, sorted, every point where ours differs from want: a
// value that differs or is missing from ours, and a point only ours has.
// wantName and ourName name the two sides in the lines.
func DiffPoints(want, ours map[NameTS]float64, wantName, ourName string) []string {
	var d []string
	for k, v := range want {
		if ov, ok := ours[k]; !ok || ov != v {
			d = append(d, fmt.Sprintf("%s@%d %s=%v %s=%v (have %v)", k.Name, k.TS, wantName, v, ourName, ov, ok))
		}
	}
	for k, v := range ours {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s@%d only %s=%v", k.Name, k.TS, ourName, v))
		}
	}
	sort.Strings(d)
	return d
}
