package tuning

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestReportClickHouse: tune for the clickhouse backend prints the plan
// without pebble, the write buffer's reason, and the server settings with
// the node's insert rate.
func TestReportClickHouse(t *testing.T) {
	var out bytes.Buffer
	err := Report(&out, Request{DataDir: t.TempDir(), Profile: "c5.xlarge", FlushSeconds: 2, Overrides: Overrides{Backend: "clickhouse"}})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"plan for the clickhouse backend",
		"storage shards        4        --storage-shards       one per CPU rounded up to a power of two: each shard sends one INSERT at a time",
		"write buffer          2 GiB    --write-buffer         1/4 of memory in [32 MiB, 16 GiB]: points wait here (and in its WAL) until ClickHouse acknowledges their INSERT",
		"(67 M points at 32 B each)",
		"pebble cache          0 B      --pebble-cache         not used by the clickhouse backend",
		"free-disk reserve     64 MiB",
		"ClickHouse servers (set there; not checked from here):",
		"each node makes up to 2.0 INSERTs a second (4 shards every 2s)",
		"parts_to_delay_insert / parts_to_throw_insert",
		"max_partitions_per_insert_block (19.x and later; 18.16 has no such limit)",
		"background_pool_size",
		"max_concurrent_queries",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if err := Report(&out, Request{DataDir: t.TempDir(), Profile: "c5.xlarge", JSON: true, Overrides: Overrides{Backend: "clickhouse"}}); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Plan             Plan
		ClickHouseServer []ServerSetting
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Plan.PebbleCacheBytes != 0 || r.Plan.WriteBufferBytes != int(2*GiB) || len(r.ClickHouseServer) != 7 ||
		!strings.Contains(r.ClickHouseServer[2].Why, "4.0 INSERTs a second (4 shards every 1s)") {
		t.Errorf("json plan %+v, server settings %+v", r.Plan, r.ClickHouseServer)
	}
	out.Reset()
	if err := Report(&out, Request{DataDir: t.TempDir(), Profile: "c5.xlarge", Overrides: Overrides{Backend: "pebble"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "ClickHouse servers") {
		t.Errorf("pebble report names ClickHouse servers:\n%s", out.String())
	}
}
