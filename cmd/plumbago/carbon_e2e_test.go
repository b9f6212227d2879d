package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"

	"github.com/plumbago/plumbago/ingest/selfmetrics"
	"github.com/plumbago/plumbago/storage/tagged"
)

// pbFrame builds a framed carbon.Payload with one metric and one point.
func pbFrame(name string, ts uint32, v float64) []byte {
	var pt []byte
	pt = append(pt, 0x08)
	pt = binary.AppendUvarint(pt, uint64(ts))
	pt = append(pt, 0x11)
	pt = binary.LittleEndian.AppendUint64(pt, math.Float64bits(v))
	var m []byte
	m = append(m, 0x0a)
	m = binary.AppendUvarint(m, uint64(len(name)))
	m = append(m, name...)
	m = append(m, 0x12)
	m = binary.AppendUvarint(m, uint64(len(pt)))
	m = append(m, pt...)
	var p []byte
	p = append(p, 0x0a)
	p = binary.AppendUvarint(p, uint64(len(m)))
	p = append(p, m...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(p))), p...)
}

const pyCarbon = `
import pickle, socket, struct, sys, io
host, port = sys.argv[1].rsplit(":", 1)
now = int(sys.argv[2])
def send(frames, close=True):
    s = socket.create_connection((host, int(port)))
    for f in frames:
        s.sendall(struct.pack("!L", len(f)) + f)
    s.close()
class Evil:
    def __reduce__(self):
        import os
        return (os.system, ("touch /tmp/plumbago-e2e-pwned",))
send([
    pickle.dumps([("pk.p2", (now - 30, 1.5)), ("pk.p2", (now - 20, 2))], protocol=2),
    pickle.dumps([("pk.evil", (now, Evil()))], protocol=2),          # rejected frame
    pickle.dumps([("pk.p5;z=1;a=2", (now - 30, 7)), ("bad",)], protocol=5),  # one bad item
    pickle.dumps([("old.renamed", (now - 30, 3))], protocol=0),
    pickle.dumps([("secret.x", (now - 30, 3)), ("a..b", (now - 30, 1))], protocol=4),
])
print("sent")
`

const pyCarbonlink = ingesttest.PyCarbonlinkClient + `
for m in sys.argv[2:]:
    print(m, sorted(query(dict(type='cache-query', metric=m))['datapoints']))
print(sorted((k, sorted(v)) for k, v in query(dict(type='cache-query-bulk', metrics=['pk.p2', 'nope']))['datapointsByMetric'].items()))
print(query(dict(type='get-metadata', metric='pk.p2', key='aggregationMethod')))
`

// TestCarbonIngestEndToEnd runs the binary with every carbon listener and
// feature on and checks, through carbonlink (graphite-web's framing) and
// /metrics, what was accepted, rewritten, normalised, aggregated and
// rejected.
func TestCarbonIngestEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1d\n")
	rules := writeFile(t, dir, "aggregation-rules.conf", "agg.<env>.total (10) = sum agg.<env>.*.hits\n")
	rw := writeFile(t, dir, "rewrite-rules.conf", "[pre]\n^old\\. = new.\n[post]\n^agg\\.prod\\. = aggregated.prod.\n")
	bl := writeFile(t, dir, "blacklist.conf", "^secret\\.\n")
	cfg := writeFile(t, dir, "plumbago.toml", fmt.Sprintf("[carbon]\nblacklist = %q\nmetric-interval = \"1s\"\nmetric-prefix = \"carbon.agents.e2e\"\n", bl))
	pickleAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	pbAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	linkAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := startPlumbago(t, bin, "--config", cfg, "--backend", "whisper", "--data-dir", dir, "--schemas", schemas,
		"--flush-interval", "1h", "--pickle-addr", pickleAddr, "--protobuf-addr", pbAddr, "--carbonlink-addr", linkAddr,
		"--aggregation-rules", rules, "--rewrite-rules", rw)
	now := time.Now().Unix()
	slot := now - now%10 - 30

	testenv.RunPython(t, pyCarbon, pickleAddr, fmt.Sprint(now))
	c, err := net.Dial("tcp", pbAddr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(pbFrame("pb.metric", uint32(slot), 4.25))
	c.Close()
	c, err = net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "agg.prod.a.hits 1 %d\nagg.prod.b.hits 2 %d\nagg.dev.a.hits 5 %d\n", slot, slot+3, slot)
	c.Close()

	// 5 accepted pickle points + 1 protobuf + 3 raw inputs, stored
	// (FORWARD_ALL on, carbon's default) under their [post] names, as
	// carbon-aggregator 1.1.7 passes them on + 2 aggregates once the
	// merger runs, which skip the rewrite rules as carbon's do.
	deadline := time.Now().Add(15 * time.Second)
	for p.metric(t, "plumbago_aggregate_points_total") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := testenv.RunPython(t, pyCarbonlink, linkAddr, "pk.p2", "pk.p5;a=2;z=1", "new.renamed", "old.renamed", "secret.x",
		"pb.metric", "agg.prod.total", "agg.dev.total", "agg.prod.a.hits", "aggregated.prod.a.hits", "aggregated.prod.total")
	want := fmt.Sprintf(`pk.p2 [(%[1]d, 1.5), (%[2]d, 2.0)]
pk.p5;a=2;z=1 [(%[1]d, 7.0)]
new.renamed [(%[1]d, 3.0)]
old.renamed []
secret.x []
pb.metric [(%[3]d, 4.25)]
agg.prod.total [(%[3]d, 3.0)]
agg.dev.total [(%[3]d, 5.0)]
agg.prod.a.hits []
aggregated.prod.a.hits [(%[3]d, 1.0)]
aggregated.prod.total []
[('nope', []), ('pk.p2', [(%[1]d, 1.5), (%[2]d, 2.0)])]
{'value': 'average'}
`, now-30, now-20, slot)
	if out != want {
		t.Errorf("carbonlink answers:\n%s\nwant:\n%s", out, want)
	}
	for reason, n := range map[string]float64{"pickle_unsafe": 1, "pickle_bad_item": 1, "blacklist": 1, "unsafe_name": 1} {
		if got := p.metric(t, fmt.Sprintf(`plumbago_points_dropped_total{reason=%q}`, reason)); got != n {
			t.Errorf("drops %s = %v, want %v", reason, got, n)
		}
	}
	if _, err := os.Stat("/tmp/plumbago-e2e-pwned"); err == nil {
		t.Fatal("pickle payload executed")
	}
	if got := p.metric(t, "plumbago_tagged_series"); got != 1 {
		t.Errorf("tagged series = %v", got)
	}
	// Self-metrics: after ~1 s carbon.agents.e2e.metricsReceived exists.
	var find string
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		find = readAll(t, fmt.Sprintf("http://%s/metrics/find?query=carbon.agents.e2e.*&format=completer", p.http))
		if strings.Contains(find, `"name": "metricsReceived"`) && strings.Contains(find, `"name": "committedPoints"`) {
			break
		}
	}
	for _, name := range []string{"metricsReceived", "committedPoints", "updateOperations", "cache", "creates", "errors", "aggregateDatapointsSent"} {
		if !strings.Contains(find, `"name": "`+name+`"`) {
			t.Errorf("self-metric %s missing from find: %s", name, find)
		}
	}
	_ = selfmetrics.DefaultPrefix
	p.stop(t)
	// The tagged series is on disk where carbon and graphite-web look for it.
	f := filepath.Join(dir, "whisper", tagged.StoragePath("pk.p5;a=2;z=1", "/", false)+".wsp")
	if _, err := os.Stat(f); err != nil {
		t.Errorf("tagged series file: %v", err)
	}
}

// TestCarbonCRelayToPlumbago puts Debian's carbon-c-relay in front of
// plumbago (it speaks the line protocol, over TCP and UDP, including a
// carbon_ch ring) and checks every relayed point through carbonlink.
func TestCarbonCRelayToPlumbago(t *testing.T) {
	relay := testenv.Command(t, "carbon-c-relay", "apt carbon-c-relay")
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1d\n")
	linkAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", dir, "--schemas", schemas,
		"--flush-interval", "1h", "--carbonlink-addr", linkAddr)
	relayPort := ingesttest.FreePort(t)
	conf := writeFile(t, dir, "relay.conf", fmt.Sprintf(`
cluster tcpc forward %[1]s proto tcp;
cluster udpc forward %[1]s proto udp;
cluster ring carbon_ch %[1]s;
match ^relay\.tcp\. send to tcpc stop;
match ^relay\.udp\. send to udpc stop;
match * send to ring;
listen type linemode 127.0.0.1:%[2]d proto tcp;
`, p.carbon, relayPort))
	c, rlog := startListening(t, exec.Command(relay, "-f", conf, "-w", "1", "-T", "2000"),
		fmt.Sprintf("127.0.0.1:%d", relayPort), 10*time.Second)
	now := time.Now().Unix()
	slot := now - now%10 - 30
	fmt.Fprintf(c, "relay.tcp.a 1 %d\nrelay.udp.b 2.5 %d\nrelay.ring.c;z=1;a=2 -3 %d\nrelay.tcp.a 4 %d\n", slot, slot, slot, slot+10)
	c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for p.metric(t, "plumbago_points_received_total") < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := testenv.RunPython(t, pyCarbonlink, linkAddr, "relay.tcp.a", "relay.udp.b", "relay.ring.c;a=2;z=1")
	want := fmt.Sprintf(`relay.tcp.a [(%[1]d, 1.0), (%[2]d, 4.0)]
relay.udp.b [(%[1]d, 2.5)]
relay.ring.c;a=2;z=1 [(%[1]d, -3.0)]
[('nope', []), ('pk.p2', [])]
{'value': 'average'}
`, slot, slot+10)
	if out != want {
		t.Errorf("after carbon-c-relay:\n%s\nwant:\n%s\nrelay log:\n%s", out, want, rlog.String())
	}
	p.stop(t)
}

// TestCarbonRelayPickleToPlumbago puts Debian's python carbon-relay
// (DESTINATION_PROTOCOL = pickle, consistent hashing) in front of
// plumbago's pickle port: the frames are carbon's own.
func TestCarbonRelayPickleToPlumbago(t *testing.T) {
	relay := testenv.Command(t, "carbon-relay", "apt graphite-carbon")
	bin := buildBinary(t)
	dir := t.TempDir()
	schemas := writeFile(t, dir, "schemas.conf", "[all]\npattern = .*\nretentions = 10s:1d\n")
	linkAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	pickleAddr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	p := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", dir, "--schemas", schemas,
		"--flush-interval", "1h", "--carbonlink-addr", linkAddr, "--pickle-addr", pickleAddr)
	rdir := filepath.Join(dir, "relay")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	linePort, relayPicklePort := ingesttest.FreePort(t), ingesttest.FreePort(t)
	writeFile(t, rdir, "storage-schemas.conf", "[d]\npattern = .*\nretentions = 60s:1d\n")
	conf := writeFile(t, rdir, "carbon.conf", fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/storage
LOCAL_DATA_DIR = %[1]s/storage/whisper
LOG_DIR = %[1]s/log
PID_DIR = %[1]s
[relay]
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
RELAY_METHOD = consistent-hashing
DESTINATIONS = %[4]s:a
DESTINATION_PROTOCOL = pickle
CARBON_METRIC_INTERVAL = 0
LOG_DIR = %[1]s/log
PID_DIR = %[1]s
`, rdir, linePort, relayPicklePort, pickleAddr))
	c, rlog := startListening(t, exec.Command(relay, "--config="+conf, "--pidfile="+filepath.Join(rdir, "relay.pid"),
		"--logdir="+filepath.Join(rdir, "log"), "--nodaemon", "start"), fmt.Sprintf("127.0.0.1:%d", linePort), 15*time.Second)
	now := time.Now().Unix()
	slot := now - now%10 - 30
	fmt.Fprintf(c, "crelay.a 1 %d\ncrelay.a 2.25 %d\ncrelay.t;z=1;a=2 -7 %d\n", slot, slot+10, slot)
	c.Close()
	deadline := time.Now().Add(15 * time.Second)
	for p.metric(t, "plumbago_pickle_frames_total") < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for p.metric(t, "plumbago_points_received_total") < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	out := testenv.RunPython(t, pyCarbonlink, linkAddr, "crelay.a", "crelay.t;a=2;z=1")
	want := fmt.Sprintf(`crelay.a [(%[1]d, 1.0), (%[2]d, 2.25)]
crelay.t;a=2;z=1 [(%[1]d, -7.0)]
[('nope', []), ('pk.p2', [])]
{'value': 'average'}
`, slot, slot+10)
	if out != want {
		t.Errorf("after carbon-relay:\n%s\nwant:\n%s\nrelay log:\n%s", out, want, rlog.String())
	}
	p.stop(t)
}
