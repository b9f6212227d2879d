package tuning

import (
	"reflect"
	"strings"
	"testing"
)

func TestDeriveMachineShapes(t *testing.T) {
	cases := []struct {
		name string
		m    Machine
		o    Overrides
		want Plan
	}{
		{"c5.large pebble", Profiles["c5.large"].Machine(), Overrides{},
			Plan{Backend: "pebble", EventLoops: 2, StorageShards: 2, QueueChunks: 32, WriteBufferBytes: int(512 * MiB),
				GoMemLimit: 3481 * MiB, SocketRecvBuffer: int(16 * MiB), PebbleCacheBytes: 1 * GiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 4 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 1 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
		{"c3.xlarge whisper", Profiles["c3.xlarge"].Machine(), Overrides{Backend: "whisper"},
			Plan{Backend: "whisper", EventLoops: 4, StorageShards: 8, QueueChunks: 64, WriteBufferBytes: int(1920 * MiB),
				GoMemLimit: 6528 * MiB, SocketRecvBuffer: int(32 * MiB),
				MemoryBudget: 7680 * MiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 1920 * MiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, MinFreeDiskBytes: 64 * MiB}},
		{"c7i.xlarge pebble", Profiles["c7i.xlarge"].Machine(), Overrides{Backend: "pebble"},
			Plan{Backend: "pebble", EventLoops: 4, StorageShards: 4, QueueChunks: 16, WriteBufferBytes: int(1 * GiB),
				GoMemLimit: 6963 * MiB, SocketRecvBuffer: int(32 * MiB), PebbleCacheBytes: 2 * GiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 8 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 2 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
		{"a small volume caps the memtable", Profiles["c7i.xlarge"].Machine(), Overrides{VolumeBytes: 2 * GiB},
			Plan{Backend: "pebble", EventLoops: 4, StorageShards: 4, QueueChunks: 16, WriteBufferBytes: int(1 * GiB),
				GoMemLimit: 6963 * MiB, SocketRecvBuffer: int(32 * MiB), PebbleCacheBytes: 2 * GiB, PebbleMemTableBytes: 32 * MiB,
				MemoryBudget: 8 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 2 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360,
				PebbleWALPreallocBytes: 2 * MiB, MinFreeDiskBytes: 144 * MiB}},
		{"c7i.xlarge clickhouse", Profiles["c7i.xlarge"].Machine(), Overrides{Backend: "clickhouse", VolumeBytes: 4 * GiB},
			Plan{Backend: "clickhouse", EventLoops: 4, StorageShards: 4, QueueChunks: 32, WriteBufferBytes: int(2 * GiB),
				GoMemLimit: 6963 * MiB, SocketRecvBuffer: int(32 * MiB),
				MemoryBudget: 8 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 2 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, MinFreeDiskBytes: 64 * MiB}},
		{"1 cpu 512MiB whisper", Machine{CPUs: 1, MemoryBytes: 512 * MiB}, Overrides{Backend: "whisper"},
			Plan{Backend: "whisper", EventLoops: 1, StorageShards: 2, QueueChunks: 128, WriteBufferBytes: int(128 * MiB),
				GoMemLimit: 435 * MiB, SocketRecvBuffer: int(2 * MiB),
				MemoryBudget: 512 * MiB, StatsdTimerSamples: 262144, QueryMemoryBytes: 128 * MiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, MinFreeDiskBytes: 64 * MiB}},
		{"64 cpu 256GiB pebble (clamps)", Machine{CPUs: 64, MemoryBytes: 256 * GiB}, Overrides{},
			Plan{Backend: "pebble", EventLoops: 64, StorageShards: 64, QueueChunks: 8, WriteBufferBytes: int(4 * GiB),
				GoMemLimit: 222822 * MiB, SocketRecvBuffer: int(32 * MiB), PebbleCacheBytes: 8 * GiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 256 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 16 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
		{"3 cpus rounds shards up", Machine{CPUs: 3, MemoryBytes: 6 * GiB}, Overrides{},
			Plan{Backend: "pebble", EventLoops: 3, StorageShards: 4, QueueChunks: 16, WriteBufferBytes: int(768 * MiB),
				GoMemLimit: 5222 * MiB, SocketRecvBuffer: int(32 * MiB), PebbleCacheBytes: 1536 * MiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 6 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 1536 * MiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
		{"unknown machine falls back to 1 CPU 1 GiB", Machine{}, Overrides{},
			Plan{Backend: "pebble", EventLoops: 1, StorageShards: 1, QueueChunks: 32, WriteBufferBytes: int(128 * MiB),
				GoMemLimit: 870 * MiB, SocketRecvBuffer: int(4 * MiB), PebbleCacheBytes: 256 * MiB, PebbleMemTableBytes: 32 * MiB,
				MemoryBudget: 1 * GiB, StatsdTimerSamples: 524288, QueryMemoryBytes: 256 * MiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 2 * MiB, MinFreeDiskBytes: 144 * MiB}},
		{"overrides win", Profiles["c5.large"].Machine(),
			Overrides{EventLoops: 8, StorageShards: 16, QueueChunks: 3, WriteBufferBytes: 1000, GoMemLimit: 2000,
				SocketRecvBuffer: 3000, PebbleCacheBytes: 4000, PebbleMemTableBytes: 5000, MaxIngestConns: 7, MaxHTTPConns: 9, QueryMemoryBytes: 6000},
			Plan{Backend: "pebble", EventLoops: 8, StorageShards: 16, QueueChunks: 3, WriteBufferBytes: 1000,
				GoMemLimit: 2000, SocketRecvBuffer: 3000, PebbleCacheBytes: 4000, PebbleMemTableBytes: 5000,
				MemoryBudget: 4 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 6000, MaxIngestConns: 7, MaxHTTPConns: 9, PebbleWALPreallocBytes: 1 * MiB, MinFreeDiskBytes: 64*MiB + 12500}},
		{"memory budget scales every size", Profiles["c7i.xlarge"].Machine(), Overrides{MemoryBudget: 4 * GiB},
			Plan{Backend: "pebble", EventLoops: 4, StorageShards: 4, QueueChunks: 8, WriteBufferBytes: int(512 * MiB),
				GoMemLimit: 3481 * MiB, SocketRecvBuffer: int(16 * MiB), PebbleCacheBytes: 1 * GiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 4 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 1 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
		{"loops override feeds queue sizing", Profiles["c5.large"].Machine(), Overrides{EventLoops: 8},
			Plan{Backend: "pebble", EventLoops: 8, StorageShards: 2, QueueChunks: 8, WriteBufferBytes: int(512 * MiB),
				GoMemLimit: 3481 * MiB, SocketRecvBuffer: int(16 * MiB), PebbleCacheBytes: 1 * GiB, PebbleMemTableBytes: 64 * MiB,
				MemoryBudget: 4 * GiB, StatsdTimerSamples: 1048576, QueryMemoryBytes: 1 * GiB, MaxIngestConns: 46080, MaxHTTPConns: 15360, PebbleWALPreallocBytes: 4 * MiB, MinFreeDiskBytes: 224 * MiB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Derive(c.m, c.o)
			reasons := got.Reasons
			got.Reasons = nil
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Derive:\n got %+v\nwant %+v", got, c.want)
			}
			if len(reasons) != 15 {
				t.Fatalf("got %d reasons, want 15: %q", len(reasons), reasons)
			}
		})
	}
}

func TestDeriveReasons(t *testing.T) {
	p := Derive(Machine{CPUs: 2, MemoryBytes: 4 * GiB, CPUSource: "cgroup v2 cpu.max", RmemMax: 212992}, Overrides{EventLoops: 3})
	want := []string{
		"event loops: set by override",
		"storage shards: one per CPU rounded up to a power of two: pebble batches are CPU-bound",
	}
	for i, w := range want {
		if p.Reasons[i] != w {
			t.Errorf("reason %d = %q, want %q", i, p.Reasons[i], w)
		}
	}
	var socket string
	for _, r := range p.Reasons {
		if strings.HasPrefix(r, "socket recv buffer: ") {
			socket = r
		}
	}
	if !strings.HasSuffix(socket, "; the kernel caps it at net.core.rmem_max=212992 until you raise it") {
		t.Errorf("socket reason %q does not mention rmem_max", socket)
	}
	if last, want := p.Reasons[len(p.Reasons)-1], "memory budget: all of the memory the machine gives the process (given); every size above is a share of it"; last != want {
		t.Errorf("last reason %q, want %q", last, want)
	}
}

// TestDeriveConnections: the connection limits follow RLIMIT_NOFILE, less
// a reserve of a quarter clamped to [128, 4096].
func TestDeriveConnections(t *testing.T) {
	for _, c := range []struct {
		nofile         int64
		ingest, http   int
		reasonContains string
	}{
		{1024, 576, 192, "3/4 of the RLIMIT_NOFILE 1024 less 256 kept"},
		{20000, 11928, 3976, "3/4 of the RLIMIT_NOFILE 20000 less 4096 kept"},
		{1048576, 783360, 261120, "RLIMIT_NOFILE 1048576 less 4096"},
		{256, 96, 32, "RLIMIT_NOFILE 256 less 128"},
		{0, 46080, 15360, "3/4 of the assumed RLIMIT_NOFILE 65536 less 4096 kept"},
	} {
		p := Derive(Machine{CPUs: 2, MemoryBytes: 4 * GiB, NoFile: c.nofile}, Overrides{})
		if p.MaxIngestConns != c.ingest || p.MaxHTTPConns != c.http {
			t.Errorf("nofile %d: ingest %d http %d; want %d %d", c.nofile, p.MaxIngestConns, p.MaxHTTPConns, c.ingest, c.http)
		}
		var r string
		for _, x := range p.Reasons {
			if strings.HasPrefix(x, "ingest connections: ") {
				r = x
			}
		}
		if !strings.Contains(r, c.reasonContains) {
			t.Errorf("nofile %d: reason %q lacks %q", c.nofile, r, c.reasonContains)
		}
	}
}

func TestParseBytes(t *testing.T) {
	cases := map[string]int64{
		"0": 0, "65536": 65536, "1K": 1024, "1KiB": 1024, "512MiB": 512 * MiB, "8GiB": 8 * GiB,
		"4G": 4 * GiB, "1.5GiB": 1536 * MiB, "2 gb": 2 * GiB, "1T": 1 << 40, "7b": 7,
	}
	for in, want := range cases {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1X", "-1G", "GiB", "1e30G", "NaNG"} {
		if v, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, v)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"8GiB", "1.5 MiB", "0", "-3", "1e400", "12kb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseBytes(s)
		if err == nil && v < 0 {
			t.Fatalf("ParseBytes(%q) = %d", s, v)
		}
	})
}

func TestFormatBytes(t *testing.T) {
	cases := map[int64]string{0: "0 B", 512: "512 B", 1536: "1.5 KiB", 64 * MiB: "64 MiB", 7680 * MiB: "7.5 GiB", 20 * GiB: "20 GiB"}
	for in, want := range cases {
		if got := FormatBytes(in); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", in, got, want)
		}
	}
}
