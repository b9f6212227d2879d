package clickhouse

import (
	"fmt"
	"regexp"
)

// Tables names the database and the three tables of carbon-clickhouse's
// layout that the backend reads and writes.
type Tables struct {
	Database string // default "default"
	Points   string // GraphiteMergeTree points table, default "graphite"
	Index    string // path index (ReplacingMergeTree), default "graphite_index"
	Tagged   string // tag index (ReplacingMergeTree), default "graphite_tagged"
	// Rollup is the graphite_rollup section of the servers' config the
	// points table rolls up by, default "graphite_rollup".
	Rollup string
}

// DefaultTables are carbon-clickhouse's and graphite-clickhouse's names.
var DefaultTables = Tables{Database: "default", Points: "graphite", Index: "graphite_index", Tagged: "graphite_tagged", Rollup: RollupSection}

// withDefaults fills empty names with DefaultTables'.
func (t Tables) withDefaults() Tables {
	if t.Database == "" {
		t.Database = DefaultTables.Database
	}
	if t.Points == "" {
		t.Points = DefaultTables.Points
	}
	if t.Index == "" {
		t.Index = DefaultTables.Index
	}
	if t.Tagged == "" {
		t.Tagged = DefaultTables.Tagged
	}
	if t.Rollup == "" {
		t.Rollup = DefaultTables.Rollup
	}
	return t
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// validate checks every name is a plain identifier (they are written into
// SQL unquoted).
func (t Tables) validate() error {
	for _, n := range []string{t.Database, t.Points, t.Index, t.Tagged, t.Rollup} {
		if !identRE.MatchString(n) {
			return fmt.Errorf("clickhouse: name %q: want letters, digits and _ (not starting with a digit)", n)
		}
	}
	return nil
}

// columns of the three tables, as carbon-clickhouse creates them.
const (
	pointsColumns = "(\n  Path String,\n  Value Float64,\n  Time UInt32,\n  Date Date,\n  Timestamp UInt32\n)"
	indexColumns  = "(\n  Date Date,\n  Level UInt32,\n  Path String,\n  Version UInt32\n)"
	taggedColumns = "(\n  Date Date,\n  Tag1 String,\n  Path String,\n  Tags Array(String),\n  Version UInt32\n)"
)

// DDL returns the statements that create the database and tables on one
// server, each ending in ";" when printed.
func DDL(t Tables) ([]string, error) {
	t = t.withDefaults()
	if err := t.validate(); err != nil {
		return nil, err
	}
	db := t.Database
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s", db),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s %s\nENGINE = GraphiteMergeTree('%s')\nPARTITION BY toYYYYMM(Date)\nORDER BY (Path, Time)\nSETTINGS index_granularity = 8192", db, t.Points, pointsColumns, t.Rollup),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s %s\nENGINE = ReplacingMergeTree(Version)\nPARTITION BY toYYYYMM(Date)\nORDER BY (Level, Path, Date)", db, t.Index, indexColumns),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s %s\nENGINE = ReplacingMergeTree(Version)\nPARTITION BY toYYYYMM(Date)\nORDER BY (Tag1, Path, Date)", db, t.Tagged, taggedColumns),
	}, nil
}

// ClusterDDL returns the statements for a cluster named in the servers'
// remote_servers: on every server (ON CLUSTER, which needs ZooKeeper and
// distributed_ddl) a replicated local table <name>_local per table, with
// the {shard} and {replica} macros each server defines, and the
// Distributed table <name> over them that Plumbago writes to and reads
// from. Points and index rows are sharded by cityHash64(Path), so each
// series and its index rows live on one shard (its rollup needs all its
// rows together).
func ClusterDDL(t Tables, cluster string) ([]string, error) {
	t = t.withDefaults()
	if err := t.validate(); err != nil {
		return nil, err
	}
	if !identRE.MatchString(cluster) {
		return nil, fmt.Errorf("clickhouse: cluster name %q: want letters, digits and _", cluster)
	}
	db := t.Database
	zk := func(table string) string {
		return fmt.Sprintf("'/clickhouse/tables/{shard}/%s.%s_local', '{replica}'", db, table)
	}
	return []string{
		fmt.Sprintf("CREATE DATABASE IF NOT EXISTS %s ON CLUSTER %s", db, cluster),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s_local ON CLUSTER %s %s\nENGINE = ReplicatedGraphiteMergeTree(%s, '%s')\nPARTITION BY toYYYYMM(Date)\nORDER BY (Path, Time)\nSETTINGS index_granularity = 8192", db, t.Points, cluster, pointsColumns, zk(t.Points), t.Rollup),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s_local ON CLUSTER %s %s\nENGINE = ReplicatedReplacingMergeTree(%s, Version)\nPARTITION BY toYYYYMM(Date)\nORDER BY (Level, Path, Date)", db, t.Index, cluster, indexColumns, zk(t.Index)),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s_local ON CLUSTER %s %s\nENGINE = ReplicatedReplacingMergeTree(%s, Version)\nPARTITION BY toYYYYMM(Date)\nORDER BY (Tag1, Path, Date)", db, t.Tagged, cluster, taggedColumns, zk(t.Tagged)),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s %s\nENGINE = Distributed(%s, %s, %s_local, cityHash64(Path))", db, t.Points, cluster, pointsColumns, cluster, db, t.Points),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s %s\nENGINE = Distributed(%s, %s, %s_local, cityHash64(Path))", db, t.Index, cluster, indexColumns, cluster, db, t.Index),
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s %s\nENGINE = Distributed(%s, %s, %s_local, cityHash64(Path))", db, t.Tagged, cluster, taggedColumns, cluster, db, t.Tagged),
	}, nil
}
