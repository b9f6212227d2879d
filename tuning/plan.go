package tuning

import (
	"fmt"
	"math/bits"
)

// Size units.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
)

// QueueChunkBytes is the size Derive assumes for one chunk of a loop-to-shard
// queue when it turns a memory budget into QueueChunks: storage/cache's 512
// points of a 24-byte entry plus a name of about 40 bytes.
const QueueChunkBytes = 32 * KiB

// maxDerivedMemTable caps the derived pebble memtable. Pebble starts at
// 256 KiB and doubles each rotation up to the size set, and flushes only
// once the memtables queued behind the current one add up to half that
// size: with 256 MiB, the 1 M-series x 20-point burst (about 180 MB of
// WAL) was never flushed before its end and held 250-480 MB of arenas
// outside the Go heap at its peak. 128 MiB flushed at about 128 MB and
// held one or two 128 MiB arenas (peaks 705-760 MiB); 64 MiB holds one or
// two of 64 MiB: that peak was 604-628 MiB against 728-743 MiB with 128 MiB,
// old and new alternated on the same box, for about 4 % more server CPU
// (twice the compactions; docs/bench-rounds.md, "Session 14 (m1m)"). W1's
// second pass (100,000 existing series x 100 points, about 30 MB of WAL)
// flushes with neither.
const maxDerivedMemTable = 64 * MiB

// Machine is what Derive sizes for: the CPUs and memory Plumbago may use (after
// cgroup limits) and what the kernel lets sockets have.
type Machine struct {
	// CPUs is the number of CPUs the process may use: the affinity mask,
	// further capped by a cgroup CPU quota (rounded up).
	CPUs int
	// MemoryBytes is the memory the process may use: the smaller of
	// /proc/meminfo's MemTotal and the cgroup memory limit.
	MemoryBytes int64
	// Name is a profile name ("c5.xlarge") or "detected".
	Name string
	// CPUSource and MemorySource say where CPUs and MemoryBytes came from.
	CPUSource, MemorySource string
	// RmemMax is net.core.rmem_max, the cap on SO_RCVBUF; 0 when unknown.
	RmemMax int64
	// NoFile is the RLIMIT_NOFILE soft limit the process runs with (Go
	// raises it to the hard limit at start); 0 when unknown.
	NoFile int64
}

// assumedNoFile is the descriptor limit Derive sizes for when the machine's
// is unknown (profiles): what `plumbago tune` asks for.
const assumedNoFile = 65536

// Overrides carries configuration that Derive takes into account and the
// values an operator fixed. A zero field means "derive it".
type Overrides struct {
	// Backend is "pebble" (the default when empty), "whisper" or
	// "clickhouse".
	Backend string

	// MemoryBudget is the memory Plumbago may use in all; every other size
	// is derived from it. 0 means the machine's (cgroup-limited) memory.
	MemoryBudget int64

	EventLoops          int
	StorageShards       int
	QueueChunks         int
	WriteBufferBytes    int
	GoMemLimit          int64
	SocketRecvBuffer    int
	PebbleCacheBytes    int64
	PebbleMemTableBytes int64
	MaxIngestConns      int
	MaxHTTPConns        int
	QueryMemoryBytes    int64
	MinFreeDiskBytes    int64

	// VolumeBytes is the size of the data volume (0 = unknown): pebble's
	// memtable, and so its WAL and flushes, stay a small share of it.
	VolumeBytes int64
}

// Plan is the set of runtime sizes serve uses. Reasons holds one line per
// field, in field order, saying why the value was chosen.
type Plan struct {
	Backend string
	// MemoryBudget is the memory Plumbago may use in all (--memory-budget,
	// else the machine's memory after cgroup limits); the sizes below are
	// shares of it.
	MemoryBudget int64
	// EventLoops is the number of gnet event loops.
	EventLoops int
	// StorageShards is the number of storage shards (a power of two).
	StorageShards int
	// QueueChunks is the capacity, in chunks of QueueChunkBytes, of each
	// loop-to-shard queue (a power of two).
	QueueChunks int
	// WriteBufferBytes is the memory budget of the write buffer (points
	// accepted but not yet written to the backend).
	WriteBufferBytes int
	// GoMemLimit is the soft memory limit for the Go runtime (GOMEMLIMIT).
	GoMemLimit int64
	// SocketRecvBuffer is the SO_RCVBUF asked for on UDP sockets.
	SocketRecvBuffer int
	// PebbleCacheBytes and PebbleMemTableBytes size pebble's block cache and
	// memtable; both are 0 for the whisper backend.
	PebbleCacheBytes    int64
	PebbleMemTableBytes int64
	// PebbleWALPreallocBytes is the largest chunk pebble's write-ahead log
	// is preallocated by ahead of its writes (0 for whisper).
	PebbleWALPreallocBytes int64
	// MinFreeDiskBytes is the data volume's free-space reserve: at or
	// below it writes stop and wait (--min-free-disk-space).
	MinFreeDiskBytes int64
	// StatsdTimerSamples is the number of statsd timer samples all event
	// loops keep in one flush interval (StatsdTimerSampleBudget).
	StatsdTimerSamples int
	// QueryMemoryBytes is the memory all queries in flight may hold
	// (QueryMemoryBudget).
	QueryMemoryBytes int64
	// MaxIngestConns and MaxHTTPConns cap the open TCP connections of the
	// ingest listeners (all together) and of the HTTP API: past them a new
	// connection is closed at once, so a flood of clients cannot use up
	// the descriptors storage and the other listeners need.
	MaxIngestConns int
	MaxHTTPConns   int

	Reasons []string
}

// StatsdSampleBytes is what one retained statsd timer sample costs at a
// flush, all copies counted: the loop's interval being filled, the one being
// merged, the merged value and weight, and the flush's sorting and running
// sums.
const StatsdSampleBytes = 64

// StatsdTimerSampleMax is the default timer sample budget's ceiling: 1 Mi
// samples per flush interval (64 MiB at StatsdSampleBytes), about 100,000
// timer samples a second kept exactly at the default 10 s interval. Past it
// statsd keeps a uniform sample per timer with exact count, sum, mean, upper
// and lower, so its memory stays flat however fast timers arrive; a budget
// that grew with the memory budget instead let RSS grow with the traffic up
// to it (issue 18: 196 MB at 1.6 M metrics/s, 378 MB at 6 M/s).
const StatsdTimerSampleMax = 1 << 20

// StatsdTimerSampleBudget is the number of timer samples statsd keeps per
// flush interval for a memory budget: 1/32 of it at StatsdSampleBytes each,
// in [64Ki, StatsdTimerSampleMax] samples.
func StatsdTimerSampleBudget(memoryBudget int64) int {
	return int(clamp64(memoryBudget/32/StatsdSampleBytes, 64<<10, StatsdTimerSampleMax))
}

// QueryMemoryBudget is the memory the queries in flight may hold together
// for a memory budget: 1/4 of it in [64 MiB, 16 GiB], the same share as
// pebble's block cache. The query bounds turn it into points or series with
// their own per-point cost.
func QueryMemoryBudget(memoryBudget int64) int64 {
	return roundDown(clamp64(memoryBudget/4, 64*MiB, 16*GiB), MiB)
}

// Derive computes the Plan for machine m. It is pure: the same inputs always
// give the same plan. Every non-zero field of o wins over the derived value.
func Derive(m Machine, o Overrides) Plan {
	cpus := m.CPUs
	if cpus < 1 {
		cpus = 1
	}
	mem := m.MemoryBytes
	if mem <= 0 {
		mem = 1 * GiB
	}
	memSource := orDefault(m.MemorySource, "given")
	if o.MemoryBudget > 0 {
		mem, memSource = o.MemoryBudget, "--memory-budget"
	}
	p := Plan{Backend: o.Backend, MemoryBudget: mem}
	if p.Backend == "" {
		p.Backend = "pebble"
	}
	whisper := p.Backend == "whisper"
	ch := p.Backend == "clickhouse"
	// Event loops: one per usable CPU. gnet loops never block, so more loops
	// than CPUs only adds context switches.
	p.EventLoops = cpus
	p.why("event loops", o.EventLoops > 0, "one per usable CPU (%d, %s)", cpus, orDefault(m.CPUSource, "given"))
	if o.EventLoops > 0 {
		p.EventLoops = o.EventLoops
	}

	// Storage shards.
	if whisper {
		p.StorageShards = clampInt(nextPow2(2*cpus), 2, 64)
		p.why("storage shards", o.StorageShards > 0, "2 per CPU rounded up to a power of two: whisper writes block in file syscalls, so a second shard per CPU keeps the CPU busy while one waits on the disk")
	} else if ch {
		p.StorageShards = clampInt(nextPow2(cpus), 1, 64)
		p.why("storage shards", o.StorageShards > 0, "one per CPU rounded up to a power of two: each shard sends one INSERT at a time, so this is the node's insert concurrency (and its inserts per flush interval)")
	} else {
		p.StorageShards = clampInt(nextPow2(cpus), 1, 64)
		p.why("storage shards", o.StorageShards > 0, "one per CPU rounded up to a power of two: pebble batches are CPU-bound")
	}
	if o.StorageShards > 0 {
		p.StorageShards = o.StorageShards
	}

	queues := int64(p.EventLoops) * int64(p.StorageShards)
	share := queueShare(p.Backend)
	chunks := mem / share / queues / QueueChunkBytes
	p.QueueChunks = clampInt(prevPow2(int(min(chunks, 1<<20))), 8, 1024)
	p.why("queue chunks", o.QueueChunks > 0, "1/%d of memory over %d loop-to-shard queues in %d KiB chunks, power of two in [8, 1024]", share, queues, QueueChunkBytes/KiB)
	if o.QueueChunks > 0 {
		p.QueueChunks = o.QueueChunks
	}

	if ch {
		p.deriveClickHouse(mem, o)
	} else {
		p.deriveStorage(mem, whisper, o)
	}

	// GOMEMLIMIT: 85% of the memory limit leaves room for goroutine stacks,
	// the kernel's socket buffers charged to the cgroup and slack.
	p.GoMemLimit = roundDown(mem*85/100, MiB)
	p.why("GOMEMLIMIT", o.GoMemLimit > 0, "85%% of the memory budget (%s, from %s), so the GC works harder before the cgroup OOM-kills", FormatBytes(mem), memSource)
	if o.GoMemLimit > 0 {
		p.GoMemLimit = o.GoMemLimit
	}

	// UDP receive buffer: 1/256 of memory in [1 MiB, 32 MiB].
	p.SocketRecvBuffer = int(nextPow2_64(clamp64(mem/256, 1*MiB, 32*MiB)))
	if p.SocketRecvBuffer > int(32*MiB) {
		p.SocketRecvBuffer = int(32 * MiB)
	}
	note := ""
	if m.RmemMax > 0 && m.RmemMax < int64(p.SocketRecvBuffer) {
		note = fmt.Sprintf("; the kernel caps it at net.core.rmem_max=%d until you raise it", m.RmemMax)
	}
	p.why("socket recv buffer", o.SocketRecvBuffer > 0, "1/256 of memory in [1 MiB, 32 MiB]: absorbs UDP bursts while a loop is busy%s", note)
	if o.SocketRecvBuffer > 0 {
		p.SocketRecvBuffer = o.SocketRecvBuffer
	}

	p.deriveConns(m, o)
	p.StatsdTimerSamples = StatsdTimerSampleBudget(mem)
	p.why("statsd timer samples", false, "1/32 of the memory budget at %d bytes a sample, in [64Ki, %d] (timerSampleBudget in [statsd] overrides)", StatsdSampleBytes, StatsdTimerSampleMax)
	p.QueryMemoryBytes = QueryMemoryBudget(mem)
	p.why("query memory", o.QueryMemoryBytes > 0, "1/4 of the memory budget in [64 MiB, 16 GiB]")
	if o.QueryMemoryBytes > 0 {
		p.QueryMemoryBytes = o.QueryMemoryBytes
	}
	p.why("memory budget", o.MemoryBudget > 0, "all of the memory the machine gives the process (%s); every size above is a share of it", memSource)
	return p
}

// queueShare is the share of memory (1/share) Derive gives all the
// loop-to-shard queues: 1/64 for whisper, 1/512 for clickhouse, 1/1024
// for pebble, whose shards write faster. A queue's chunks stay allocated
// once a burst filled it: 128 MiB of them on a 23.5 GiB machine at 1/64,
// 32 MiB at 1/512, 16 MiB at 1/1024; the write buffer behind them holds
// the backlog.
func queueShare(backend string) int64 {
	switch backend {
	case "whisper":
		return 64
	case "clickhouse":
		return 512
	}
	return 1024
}

// why records the reason for one field of the plan: the rule that sized
// it, or that an override set it.
func (p *Plan) why(field string, overridden bool, format string, args ...any) {
	if overridden {
		p.Reasons = append(p.Reasons, field+": set by override")
		return
	}
	p.Reasons = append(p.Reasons, field+": "+fmt.Sprintf(format, args...))
}

// deriveStorage sizes the write buffer, pebble's cache and memtable and
// the disk kept ahead of the data from the memory budget mem.
func (p *Plan) deriveStorage(mem int64, whisper bool, o Overrides) {
	// Write buffer.
	if whisper {
		p.WriteBufferBytes = int(clamp64(mem/4, 32*MiB, 16*GiB))
		p.why("write buffer", o.WriteBufferBytes > 0, "1/4 of memory in [32 MiB, 16 GiB]: whisper cost is per file update, so the buffer gathers many points per metric before each write")
	} else {
		p.WriteBufferBytes = int(clamp64(mem/8, 16*MiB, 4*GiB))
		p.why("write buffer", o.WriteBufferBytes > 0, "1/8 of memory in [16 MiB, 4 GiB], counted in real bytes (the queues' chunks, and the point slices, struct and name of every series holding unwritten points): pebble's memtable does the batching, the buffer only smooths bursts; past it ingest connections stop being read (plumbago_backpressure_waits_total). Smaller bounds cost CPU at many series: each series is written more often with fewer points (256 MiB took 2.1x the server CPU at 1 M series x 20 points, docs/benchmarks.md)")
	}
	if o.WriteBufferBytes > 0 {
		p.WriteBufferBytes = o.WriteBufferBytes
	}

	// Pebble.
	if whisper {
		p.why("pebble cache", o.PebbleCacheBytes > 0, "not used by the whisper backend")
		p.why("pebble memtable", o.PebbleMemTableBytes > 0, "not used by the whisper backend")
	} else {
		p.PebbleCacheBytes = roundDown(clamp64(mem/4, 8*MiB, 8*GiB), MiB)
		p.why("pebble cache", o.PebbleCacheBytes > 0, "1/4 of memory in [8 MiB, 8 GiB] for recent blocks that renders re-read")
		p.PebbleMemTableBytes = roundDown(clamp64(mem/32, 4*MiB, maxDerivedMemTable), MiB)
		volume := ""
		if o.VolumeBytes > 0 {
			p.PebbleMemTableBytes = min(p.PebbleMemTableBytes, max(4*MiB, roundDown(o.VolumeBytes/64, MiB)))
			volume = fmt.Sprintf(", at most 1/64 of the %s data volume", FormatBytes(o.VolumeBytes))
		}
		p.why("pebble memtable", o.PebbleMemTableBytes > 0, "1/32 of memory in [4 MiB, 64 MiB]%s: larger memtables mean fewer, larger flushes, but pebble flushes only once its queued memtables reach half the size, so a burst holds up to about two memtables of arena outside the Go heap (at 1 M series x 20 points 64 MiB peaked at 604-628 MiB against 728-743 MiB with 128 MiB for about 4%% more server CPU, docs/bench-rounds.md); memory only, its disk is the WAL below", volume)
	}
	if o.PebbleCacheBytes > 0 {
		p.PebbleCacheBytes = o.PebbleCacheBytes
	}
	if o.PebbleMemTableBytes > 0 {
		p.PebbleMemTableBytes = o.PebbleMemTableBytes
	}
	// Disk reserved ahead of the data.
	if whisper {
		p.why("pebble WAL prealloc", false, "not used by the whisper backend")
		p.MinFreeDiskBytes = 64 * MiB
		p.why("free-disk reserve", o.MinFreeDiskBytes > 0, "64 MiB kept free: at or below it writes stop and wait (points stay in the write buffer and its WAL)")
	} else {
		p.PebbleWALPreallocBytes = roundDown(clamp64(p.PebbleMemTableBytes/16, MiB, 16*MiB), MiB)
		p.why("pebble WAL prealloc", false, "the WAL file is reserved on disk ahead of its writes in chunks from 1 MiB doubling up to this (1/16 of the memtable in [1 MiB, 16 MiB]); pebble alone reserves 1.1x the memtable (%s) at a file's second write",
			FormatBytes(p.PebbleMemTableBytes+p.PebbleMemTableBytes/10))
		p.MinFreeDiskBytes = 64*MiB + p.PebbleMemTableBytes*5/2
		p.why("free-disk reserve", o.MinFreeDiskBytes > 0, "64 MiB + 2.5 memtables kept free: at or below it writes stop and wait, leaving pebble room for a memtable flush and compactions (not reserved: only checked)")
	}
	if o.MinFreeDiskBytes > 0 {
		p.MinFreeDiskBytes = o.MinFreeDiskBytes
	}
}

// deriveConns shares what RLIMIT_NOFILE allows between ingest and HTTP
// connections.
func (p *Plan) deriveConns(m Machine, o Overrides) {
	// Connections: what RLIMIT_NOFILE leaves after a reserve for storage
	// (pebble keeps up to 1000 tables open), logs and the process, 3/4 to
	// ingest and 1/4 to HTTP.
	nofile, src := m.NoFile, "RLIMIT_NOFILE"
	if nofile <= 0 {
		nofile, src = assumedNoFile, "assumed RLIMIT_NOFILE"
	}
	reserve := clamp64(nofile/4, 128, 4096)
	rest := max(nofile-reserve, 2)
	p.MaxIngestConns = int(rest * 3 / 4)
	p.MaxHTTPConns = int(rest - rest*3/4)
	p.why("ingest connections", o.MaxIngestConns > 0, "3/4 of the %s %d less %d kept for storage and the process", src, nofile, reserve)
	if o.MaxIngestConns > 0 {
		p.MaxIngestConns = o.MaxIngestConns
	}
	p.why("http connections", o.MaxHTTPConns > 0, "1/4 of the %s %d less %d kept for storage and the process", src, nofile, reserve)
	if o.MaxHTTPConns > 0 {
		p.MaxHTTPConns = o.MaxHTTPConns
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func clampInt(v, lo, hi int) int { return max(lo, min(v, hi)) }

func clamp64(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

func roundDown(v, unit int64) int64 { return v / unit * unit }

func nextPow2(v int) int {
	if v <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(v-1))
}

func nextPow2_64(v int64) int64 {
	if v <= 1 {
		return 1
	}
	return 1 << bits.Len64(uint64(v-1))
}

func prevPow2(v int) int {
	if v < 1 {
		return 0
	}
	return 1 << (bits.Len(uint(v)) - 1)
}
