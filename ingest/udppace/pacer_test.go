package udppace

import (
	"testing"
	"time"
)

func TestPacerWait(t *testing.T) {
	const ms = int64(time.Millisecond)
	type read struct {
		at    int64 // ns since start
		n     int
		bytes int
		want  time.Duration
	}
	for _, tc := range []struct {
		name  string
		buf   int
		reads []read
	}{
		{"first read has no rate yet", 32 << 20, []read{{1 * ms, 1, 600, 0}}},
		{
			// 1 datagram every 20 µs (50 k/s): 48 of them take 960 µs.
			"steady 50k/s waits for three quarters of a batch", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 20_000, 1, 600, 960 * time.Microsecond}},
		},
		{
			// 10 k/s: 48 datagrams would take 4.8 ms; capped at MaxWait (4 ms).
			"slower rate is capped at MaxWait", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 100_000, 1, 600, MaxWait}},
		},
		{
			// 2 k/s: a 4 ms sleep gathers 8 datagrams, worth it.
			"2k/s sleeps for MaxWait", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 500_000, 1, 600, MaxWait}},
		},
		{
			// 500/s: a 4 ms sleep gathers 2 datagrams.
			"low rate does not sleep", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 2_000_000, 1, 600, 0}},
		},
		{
			"a full batch does not sleep", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 64*20_000, 64, 64 * 600, 0}},
		},
		{
			// 15 datagrams in 300 µs (50 k/s): sleep; 16: a quarter of the
			// slots, no sleep.
			"a batch of a quarter of the slots does not sleep", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 300_000, 15, 15 * 600, 960 * time.Microsecond},
				{1*ms + 300_000 + 320_000, 16, 16 * 600, 0}},
		},
		{
			// 50 k/s of 600-byte datagrams charged 2,224 bytes each: a
			// 212,992-byte buffer fills in 1.915 ms; a quarter is 478.8 µs.
			"a small buffer bounds the sleep to a quarter of its fill time", 212992,
			[]read{{1 * ms, 1, 600, 0}, {1*ms + 20_000, 1, 600, 478848}},
		},
		{
			// 32 KiB at 50 k/s of 1,400-byte datagrams: 34 µs, too short.
			"a buffer too small for any useful sleep", 32 << 10,
			[]read{{1 * ms, 1, 1400, 0}, {1*ms + 20_000, 1, 1400, 0}},
		},
		{
			"no datagrams, or a clock that did not move", 32 << 20,
			[]read{{1 * ms, 1, 600, 0}, {2 * ms, 0, 0, 0}, {1 * ms, 5, 3000, 0}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(64, tc.buf)
			for i, r := range tc.reads {
				if got := p.Wait(r.at, r.n, r.bytes); got != r.want {
					t.Fatalf("read %d (n=%d at %d ns): wait %v; want %v", i, r.n, r.at, got, r.want)
				}
			}
		})
	}
}

// TestPacerSmoothsRate: the rate is an average over reads (1/4 of each new
// measure), so one slow gap lengthens the next sleep, not sets it.
func TestPacerSmoothsRate(t *testing.T) {
	p := New(64, 32<<20)
	at := int64(time.Millisecond)
	p.Wait(at, 1, 100)
	at += 10_000 // 100 k/s: 48 datagrams take 480 µs
	if got := p.Wait(at, 1, 100); got != 480*time.Microsecond {
		t.Fatalf("after a 10 µs gap: %v", got)
	}
	at += 160_000 // 8 in 160 µs, 50 k/s: the rate moves a quarter of the way, to 87.5 k/s
	if got, want := p.Wait(at, 8, 800), time.Duration(548571); got != want {
		t.Fatalf("after 8 in 160 µs: %v; want %v", got, want)
	}
}
