package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage/clickhouse/chtest"
)

// TestClickHouseCluster runs the documented cluster on loopback: Debian's
// clickhouse-server as 2 shards x 2 replicas with ZooKeeper, the tables
// from `plumbago clickhouse schema --cluster`, two Plumbago ingest nodes
// behind carbon-c-relay and one query node. A replica is killed (-9)
// during ingest: every point is committed (the nodes fail over) and reads
// answer; brought back, it catches up with its shard and every point and
// name is served.
func TestClickHouseCluster(t *testing.T) {
	bin := buildBinary(t)
	testenv.Files(t, "apt carbon-c-relay", "/usr/bin/carbon-c-relay")
	cl := startCHCluster(t, bin)
	url := cl.urls
	node := func(urls string, extra ...string) *proc { return cl.node(t, urls, extra...) }
	// Node b writes to replica 2 of shard 2 first: the one killed.
	a, b := node(url(0, 1)), node(url(3, 2))
	relay := startRelay(t, "fnv1a_ch", 1, []string{a.carbon, b.carbon})

	const metrics, rounds, perRound = 40, 4, 5
	now := time.Now().Unix()
	base := now - now%10 - 10*rounds*perRound - 60
	value := func(m, j int) int { return m*1000 + j }
	sent := 0
	for r := 0; r < rounds; r++ {
		var lines []string
		for m := 0; m < metrics; m++ {
			for k := 0; k < perRound; k++ {
				j := r*perRound + k
				lines = append(lines, fmt.Sprintf("cl.m%02d %d %d", m, value(m, j), base+int64(10*j)))
			}
		}
		sendCarbon(t, relay, lines...)
		sent += len(lines)
		if r == 1 {
			cl.srv[3].Kill()
		}
		for end := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got := a.metric(t, "plumbago_points_received_total") + b.metric(t, "plumbago_points_received_total")
			if got == float64(sent) {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("round %d: nodes received %v of %d points", r, got, sent)
			}
		}
	}
	for end := time.Now().Add(120 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := a.metric(t, "plumbago_points_committed_total") + b.metric(t, "plumbago_points_committed_total")
		if got == float64(sent) {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("committed %v of %d points with a replica down:\nnode a:\n%s\nnode b:\n%s", got, sent, a.log, b.log)
		}
	}
	// Reads keep answering through the live replicas. (What only the
	// killed replica had acknowledged and not yet replicated comes back
	// with it: without insert_quorum a replica acknowledges alone.)
	q := node(url(1, 2), "--clickhouse-index-refresh", "500ms")
	if got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&target=cl.*&from=%d&until=%d&format=json", q.http, base-10, now)); !strings.Contains(got, `"target": "cl.m`) {
		t.Errorf("query node with a replica down: %s", got)
	}
	// The killed replica comes back and its shard is whole again. It is
	// started once ZooKeeper has ended its old session (its replicas show
	// inactive on the live replica of the shard): started while its
	// ephemeral nodes still stand, clickhouse-server 18.16 can fail to open
	// its replicated tables and exit (seen once in a fresh-clone CI run).
	cl.restart(t, 3)
	want := fmt.Sprint(sent)
	cl.srv[1].WaitQuery(t, "SELECT count() FROM (SELECT Path, Time FROM cl.graphite GROUP BY Path, Time) FORMAT TabSeparated", want, 120*time.Second)
	shard2 := cl.caughtUp(t, 3)
	for _, m := range []int{0, 7, 39} {
		checkClusterSeries(t, q, m, base, rounds*perRound, value)
	}
	var leaves int
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := readAll(t, "http://"+q.http+"/metrics/find?query=cl.*&format=completer")
		if leaves = strings.Count(got, `"is_leaf": "1"`); leaves == metrics {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("query node finds %d leaves, want %d: %s", leaves, metrics, got)
		}
	}
	t.Logf("points %d; shard 2 rows %s; insert errors a %v b %v", sent, shard2,
		a.metric(t, "plumbago_clickhouse_insert_errors_total"), b.metric(t, "plumbago_clickhouse_insert_errors_total"))
	for _, p := range []*proc{a, b, q} {
		p.stop(t)
	}
}

// chCluster is the documented cluster on loopback: Debian's
// clickhouse-server as 2 shards x 2 replicas (server i is shard i/2+1,
// replica i%2+1) with ZooKeeper, and the tables of `plumbago clickhouse
// schema --cluster plumbago` in database cl.
type chCluster struct {
	bin                  string
	srv                  [4]*chtest.Server
	dirs                 [4]string
	opts                 func(i int) chtest.Options
	schemas, aggregation string
}

func startCHCluster(t *testing.T, bin string) *chCluster {
	t.Helper()
	chtest.Binary(t)
	zk := chtest.StartZooKeeper(t, t.TempDir())
	cl := &chCluster{bin: bin}
	cl.schemas, cl.aggregation = chFiles(t)
	rollup := runBin(t, bin, "clickhouse", "schema", "--only", "rollup", "--schemas", cl.schemas, "--aggregation", cl.aggregation)
	const n = len(cl.srv)
	var http, tcp [n]int
	for i := range n {
		http[i], tcp[i] = ingesttest.FreePort(t), ingesttest.FreePort(t)
	}
	var remote strings.Builder
	remote.WriteString("<remote_servers><plumbago>")
	for s := 0; s < n/2; s++ {
		remote.WriteString("<shard><internal_replication>true</internal_replication>")
		for r := 0; r < 2; r++ {
			fmt.Fprintf(&remote, "<replica><host>127.0.0.1</host><port>%d</port></replica>", tcp[2*s+r])
		}
		remote.WriteString("</shard>")
	}
	remote.WriteString("</plumbago></remote_servers>")
	cl.opts = func(i int) chtest.Options {
		extra := remote.String() + fmt.Sprintf(
			"<zookeeper><node><host>127.0.0.1</host><port>%d</port></node></zookeeper>"+
				"<macros><shard>%02d</shard><replica>r%d</replica></macros>"+
				"<distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>", zk.Port, i/2+1, i%2+1)
		return chtest.Options{HTTPPort: http[i], TCPPort: tcp[i], Extra: extra, ConfigD: map[string]string{"graphite_rollup.xml": rollup}}
	}
	for i := range n {
		cl.dirs[i] = t.TempDir()
		cl.srv[i] = chtest.Start(t, cl.dirs[i], cl.opts(i))
		t.Cleanup(cl.srv[i].Stop)
	}
	ddl := runBin(t, bin, "clickhouse", "schema", "--only", "ddl", "--cluster", "plumbago", "--clickhouse-database", "cl")
	for _, q := range ddlStatements(ddl) {
		cl.srv[0].Query(t, q)
	}
	for i := range n {
		cl.srv[i].WaitQuery(t, "SELECT count() FROM system.tables WHERE database = 'cl' FORMAT TabSeparated", "6", 60*time.Second)
	}
	return cl
}

// urls are the HTTP URLs of servers is, comma-separated.
func (cl *chCluster) urls(is ...int) string {
	var u []string
	for _, i := range is {
		u = append(u, cl.srv[i].URL)
	}
	return strings.Join(u, ",")
}

// node starts a Plumbago on the cluster's Distributed tables through urls.
func (cl *chCluster) node(t *testing.T, urls string, extra ...string) *proc {
	t.Helper()
	return startPlumbago(t, cl.bin, append([]string{"--backend", "clickhouse", "--data-dir", t.TempDir(), "--clickhouse-url", urls,
		"--clickhouse-database", "cl", "--clickhouse-timeout", "10s", "--schemas", cl.schemas, "--aggregation", cl.aggregation}, extra...)...)
}

// restart starts killed server i again once ZooKeeper has ended its old
// session (its replicas show inactive on the other replica of the shard):
// started while its ephemeral nodes still stand, clickhouse-server 18.16
// can fail to open its replicated tables and exit (seen once in a
// fresh-clone CI run).
func (cl *chCluster) restart(t *testing.T, i int) {
	t.Helper()
	other := cl.srv[i^1]
	for end := time.Now().Add(90 * time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		if strings.TrimSpace(other.Query(t, "SELECT max(active_replicas) FROM system.replicas WHERE database = 'cl' FORMAT TabSeparated")) == "1" {
			break
		}
	}
	// After kill -9 a replica can hold parts that ZooKeeper never recorded;
	// past replicated_max_ratio_of_wrong_parts of its (here few) rows,
	// clickhouse-server refuses to attach the table and exits (a
	// fresh-clone CI run: StorageReplicatedMergeTree's constructor threw at
	// start). The flag file is ClickHouse's documented recovery: the checks
	// are skipped once and the replica fetches what it lacks.
	flags := filepath.Join(cl.dirs[i], "data", "flags")
	if err := os.MkdirAll(flags, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flags, "force_restore_data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cl.srv[i] = chtest.Start(t, cl.dirs[i], cl.opts(i))
	t.Cleanup(cl.srv[i].Stop)
	if _, err := os.Stat(filepath.Join(flags, "force_restore_data")); !os.IsNotExist(err) {
		t.Errorf("clickhouse-server did not take the force_restore_data flag (stat: %v)", err)
	}
}

// caughtUp waits until server i has as many points rows as the other
// replica of its shard, and returns that count.
func (cl *chCluster) caughtUp(t *testing.T, i int) string {
	t.Helper()
	const local = "SELECT count() FROM cl.graphite_local FORMAT TabSeparated"
	for end := time.Now().Add(120 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		other := strings.TrimSpace(cl.srv[i^1].Query(t, local))
		if strings.TrimSpace(cl.srv[i].Query(t, local)) == other {
			return other
		}
		if time.Now().After(end) {
			t.Fatalf("server %d did not catch up with its shard: %s rows, the other replica %s", i, cl.srv[i].Query(t, local), other)
		}
	}
}

// checkClusterSeries checks that query node q renders cl.mNN (m) as the
// points value(m, j) at base+10j, j < points.
func checkClusterSeries(t *testing.T, q *proc, m int, base int64, points int, value func(m, j int) int) {
	t.Helper()
	var sb strings.Builder
	fmt.Fprintf(&sb, `[{"target": "cl.m%02d", "tags": {"name": "cl.m%02d"}, "datapoints": [`, m, m)
	for j := 0; j < points; j++ {
		if j > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "[%d.0, %d]", value(m, j), base+int64(10*j))
	}
	sb.WriteString("]}]")
	got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&target=cl.m%02d&from=%d&until=%d&format=json", q.http, m, base-10, base+int64(10*(points-1))))
	if got != sb.String() {
		t.Errorf("query node, cl.m%02d:\n%s\nwant\n%s", m, got, sb.String())
	}
}
