package tuning

import "fmt"

// deriveClickHouse sizes the write buffer and the local disk reserve for
// the clickhouse backend: no pebble, and a write buffer that holds points
// until ClickHouse acknowledged their insert.
func (p *Plan) deriveClickHouse(mem int64, o Overrides) {
	p.WriteBufferBytes = int(clamp64(mem/4, 32*MiB, 16*GiB))
	p.why("write buffer", o.WriteBufferBytes > 0, "1/4 of memory in [32 MiB, 16 GiB]: points wait here (and in its WAL) until ClickHouse acknowledges their INSERT, so it is what rides out a slow or down ClickHouse before TCP senders are slowed (%d M points at %d B each)",
		clamp64(mem/4, 32*MiB, 16*GiB)/BufferedPointBytes/1_000_000, BufferedPointBytes)
	if o.WriteBufferBytes > 0 {
		p.WriteBufferBytes = o.WriteBufferBytes
	}
	p.why("pebble cache", o.PebbleCacheBytes > 0, "not used by the clickhouse backend")
	p.why("pebble memtable", o.PebbleMemTableBytes > 0, "not used by the clickhouse backend")
	p.why("pebble WAL prealloc", false, "not used by the clickhouse backend")
	p.MinFreeDiskBytes = 64 * MiB
	p.why("free-disk reserve", o.MinFreeDiskBytes > 0, "64 MiB kept free on the data dir's volume, which holds only the write buffer's WAL: at or below it writes stop and wait")
	if o.MinFreeDiskBytes > 0 {
		p.MinFreeDiskBytes = o.MinFreeDiskBytes
	}
}

// BufferedPointBytes is what one point costs in the write buffer
// (cmd/plumbago's bytesPerBufferedPoint).
const BufferedPointBytes = 32

// ServerSetting is a setting of the ClickHouse servers that the clickhouse
// backend wants, with where it goes and why.
type ServerSetting struct {
	Where string // "users.xml profile", "config.xml merge_tree", ...
	Name  string
	Want  string
	Why   string
}

// ClickHouseServer returns what to set on the ClickHouse servers for nodes
// sized by p, each flushing every flushSeconds.
func ClickHouseServer(p Plan, flushSeconds float64) []ServerSetting {
	if flushSeconds <= 0 {
		flushSeconds = 1
	}
	perNode := float64(p.StorageShards) / flushSeconds
	return []ServerSetting{
		{"config.xml", "graphite_rollup", "the section `plumbago clickhouse schema --only rollup` prints",
			"GraphiteMergeTree rolls rows up by it; the points table names it"},
		{"users.xml profile", "max_partitions_per_insert_block (19.x and later; 18.16 has no such limit)", "more than the months of your longest retention (the default is 100)",
			"the points table is partitioned by month: an INSERT replayed from the WAL after an outage, or an import, spans one partition per month it covers"},
		{"config.xml merge_tree", "parts_to_delay_insert / parts_to_throw_insert", "150 / 300 (the defaults) or more",
			fmt.Sprintf("each node makes up to %.1f INSERTs a second (%d shards every %gs), each a new part per partition it touches; keep the servers' merges ahead (raise --flush-interval for fewer, larger inserts)", perNode, p.StorageShards, flushSeconds)},
		{"users.xml profile", "background_pool_size", ">= 16 (the default) on servers that take inserts",
			"merges of the points table run in this pool; GraphiteMergeTree's rollup happens at merge time"},
		{"users.xml profile", "max_execution_time", "0 (the default: no limit) or at least --clickhouse-timeout",
			"a fetch or insert longer than the server allows fails; Plumbago retries inserts, renders fail"},
		{"users.xml profile", "max_memory_usage", "10000000000 (the default) or more than one fetch of your longest range needs",
			"a fetch aggregates one series' range (argMax per Time; with --clickhouse-pushdown two more GROUP BYs)"},
		{"config.xml", "max_concurrent_queries", ">= 100 (the default); more than the query nodes x their concurrent fetches plus the ingest nodes x shards",
			"each node keeps up to 16 idle HTTP connections per ClickHouse URL; a fetch or insert over the limit is refused"},
	}
}
