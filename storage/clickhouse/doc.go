// Package clickhouse is the storage backend that stores into ClickHouse,
// in the table layout of carbon-clickhouse and graphite-clickhouse: a
// points table on GraphiteMergeTree (Path, Value, Time, Date, Timestamp),
// the path index table (Date, Level, Path, Version) and the tagged table
// (Date, Tag1, Path, Tags, Version). A cluster Plumbago writes can be
// read by graphite-clickhouse, and one carbon-clickhouse wrote can be
// served by Plumbago.
//
// It talks to ClickHouse's HTTP interface (client.go): Debian's
// ClickHouse 18.16 is older than the official Go client's native
// protocol. Each Write is one gzip-compressed RowBinary INSERT into the
// points table (after the index rows of names not indexed that day); it
// returns after ClickHouse acknowledged it, or an error wrapping
// storage.ErrUnreachable, which the write buffer answers by keeping the
// points (and their write-ahead log) and retrying with back-off.
//
// Tagged series are "name;k=v" above the store and carbon-clickhouse's
// "name?k=v&..." in every Path column (tagpath.go), so both programs'
// tables are the same.
//
// Points are stored at the slot time of the finest archive that holds
// them at write time (what a GraphiteMergeTree merge would round them
// to), with the write's version in Timestamp so the newest write of a
// slot wins. Fetch applies whisper's semantics at query time (fetch.go);
// docs/clickhouse.md lists where the result can differ from whisper's.
// Schema (DDL, ClusterDDL, RollupXML) prints the tables and the
// graphite_rollup section for `plumbago clickhouse schema`.
package clickhouse
