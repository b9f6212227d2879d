package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"

	"github.com/plumbago/plumbago/query/carbonapipb"
)

// needScaleOutTools skips (or fails under CI=true) when carbon-c-relay or
// Debian's graphite-web / graphite-carbon python packages are missing.
func needScaleOutTools(t *testing.T) {
	t.Helper()
	testenv.Files(t, "apt carbon-c-relay graphite-web graphite-carbon", "/usr/bin/carbon-c-relay", "/usr/bin/python3",
		"/usr/lib/python3/dist-packages/graphite/finders/remote.py", "/usr/lib/python3/dist-packages/carbon/hashing.py")
}

// ringOracle asks python carbon's ConsistentHashRing which instance owns
// each metric.
func ringOracle(t *testing.T, hash string, instances []string, metrics []string) map[string]string {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{"testdata/cluster/ring.py", hash}, instances...)...)
	cmd.Stdin = strings.NewReader(strings.Join(metrics, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ring oracle: %v", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// startRelay runs carbon-c-relay with a consistent-hash cluster over the
// nodes' line-protocol ports and returns its listen address.
func startRelay(t *testing.T, hash string, replication int, members []string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", ingesttest.FreePort(t))
	conf := fmt.Sprintf("listen type linemode %s proto tcp;\ncluster plumbago %s replication %d\n    %s\n    ;\nmatch * send to plumbago stop;\n",
		addr, hash, replication, strings.Join(members, "\n    "))
	path := writeFile(t, t.TempDir(), "relay.conf", conf)
	c, _ := startListening(t, exec.Command("/usr/bin/carbon-c-relay", "-f", path, "-s", "-w", "1"), addr, 10*time.Second)
	c.Close()
	return addr
}

func renderJSON(t *testing.T, body string) map[string][][2]*float64 {
	t.Helper()
	var list []renderedSeries
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("render json %q: %v", body, err)
	}
	out := map[string][][2]*float64{}
	for _, s := range list {
		if _, dup := out[s.Target]; dup {
			t.Fatalf("series %s returned twice", s.Target)
		}
		out[s.Target] = s.Datapoints
	}
	return out
}

// checkPoints compares datapoints with want (nil = null) at ts0, ts0+10, ...
func checkPoints(t *testing.T, what string, got [][2]*float64, ts0 int64, want []*float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d points, want %d", what, len(got), len(want))
		return
	}
	for i, p := range got {
		if p[1] == nil || int64(*p[1]) != ts0+int64(i)*10 {
			t.Errorf("%s: point %d timestamp %v, want %d", what, i, p[1], ts0+int64(i)*10)
		}
		switch {
		case want[i] == nil && p[0] != nil:
			t.Errorf("%s: point %d = %v, want null", what, i, *p[0])
		case want[i] != nil && (p[0] == nil || *p[0] != *want[i]):
			t.Errorf("%s: point %d = %v, want %v", what, i, p[0], *want[i])
		}
	}
}

func fp(v float64) *float64 { return &v }

// TestScaleOut builds the documented topology for real: carbon-c-relay
// (carbon_ch and fnv1a_ch, with instances) in front of two Plumbago nodes,
// and a graphite-web with CLUSTER_SERVERS = both nodes and no local data.
// Every metric must land on exactly the node python carbon's ring picks,
// and graphite-web must read back the union with exact values, over
// pickle, msgpack and pickle-by-POST.
func TestScaleOut(t *testing.T) {
	needScaleOutTools(t)
	bin := buildBinary(t)
	for _, c := range []struct {
		hash        string
		replication int
	}{{"carbon_ch", 1}, {"fnv1a_ch", 1}, {"carbon_ch", 2}} {
		t.Run(fmt.Sprintf("%s_replication_%d", c.hash, c.replication), func(t *testing.T) { testScaleOut(t, bin, c.hash, c.replication) })
	}
}

// testScaleOut: with replication 2 over two nodes every metric must be on
// both, and readers must still return each series once.
func testScaleOut(t *testing.T, bin, hash string, replication int) {
	instances := []string{"node-a-7f3c", "node-b-19d2"}
	nodes := map[string]*proc{}
	var members []string
	for _, inst := range instances {
		p := startPlumbago(t, bin, "--data-dir", t.TempDir())
		nodes[inst] = p
		_, port, _ := net.SplitHostPort(p.carbon)
		members = append(members, "127.0.0.1:"+port+"="+inst)
	}
	relay := startRelay(t, hash, replication, members)

	var metrics []string
	for _, group := range []string{"web", "db", "cache", "queue"} {
		for i := 0; i < 10; i++ {
			metrics = append(metrics, fmt.Sprintf("scale.%s.m%d", group, i))
		}
	}
	owner := ringOracle(t, hash, instances, metrics)
	count := map[string]int{}
	for _, m := range metrics {
		count[owner[m]]++
	}
	if replication == 1 && (count[instances[0]] == 0 || count[instances[1]] == 0) {
		t.Fatalf("ring puts everything on one node (%v); pick other names", count)
	}

	now := time.Now().Unix()
	ts0 := now - now%10 - 300
	values := func(i int) []*float64 {
		return []*float64{fp(float64(i) + 0.25), fp(2.5 * float64(i)), fp(-float64(i)), nil}
	}
	c, err := net.Dial("tcp", relay)
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for i, m := range metrics {
		for k, v := range values(i)[:3] {
			fmt.Fprintf(&lines, "%s %v %d\n", m, *v, ts0+int64(k)*10)
		}
	}
	if _, err := c.Write(lines.Bytes()); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// Wait until every metric is visible somewhere.
	leaves := func(p *proc) map[string]bool {
		var res struct {
			Metrics []struct {
				Path   string `json:"path"`
				IsLeaf string `json:"is_leaf"`
			} `json:"metrics"`
		}
		body := readAll(t, "http://"+p.http+"/metrics/find?format=completer&query=scale.*.*")
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatalf("find: %q: %v", body, err)
		}
		out := map[string]bool{}
		for _, m := range res.Metrics {
			if m.IsLeaf == "1" {
				out[m.Path] = true
			}
		}
		return out
	}
	var have map[string]map[string]bool
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		have = map[string]map[string]bool{}
		n := 0
		for inst, p := range nodes {
			have[inst] = leaves(p)
			n += len(have[inst])
		}
		if n >= replication*len(metrics) || time.Now().After(deadline) {
			break
		}
	}
	from, until := fmt.Sprint(ts0-10), fmt.Sprint(ts0+30)
	for i, m := range metrics {
		for inst, p := range nodes {
			owns := owner[m] == inst || replication == 2
			if have[inst][m] != owns {
				t.Errorf("%s on %s: %v, ring owner %s", m, inst, have[inst][m], owner[m])
				continue
			}
			if owns {
				got := renderJSON(t, readAll(t, "http://"+p.http+"/render?noCache=1&format=json&target="+m+"&from="+from+"&until="+until))
				checkPoints(t, m+" on "+inst, got[m], ts0, values(i))
			}
		}
	}
	if t.Failed() {
		return
	}
	checkCarbonapiUnion(t, nodes, metrics, replication, ts0, values)

	sum := []*float64{fp(0), fp(0), fp(0), nil}
	for i := range metrics {
		for k := 0; k < 3; k++ {
			*sum[k] += *values(i)[k]
		}
	}
	// Split history, as after adding a node: the first point of split.m
	// is on node a, the second on node b (written to them directly).
	for k, inst := range instances {
		c, err := net.Dial("tcp", nodes[inst].carbon)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "split.m %v %d\n", 1.5+float64(k), ts0+int64(k)*10)
		c.Close()
	}
	for _, inst := range instances {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if strings.Contains(readAll(t, "http://"+nodes[inst].http+"/metrics/find?query=split.*&format=completer"), `"split.m"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("split.m never appeared on %s", inst)
			}
		}
	}

	requests := []string{
		"/render?noCache=1&format=json&target=scale.*.*&from=" + from + "&until=" + until,
		"/render?noCache=1&format=json&target=sumSeries(scale.*.*)&from=" + from + "&until=" + until,
		"/metrics/find?format=completer&query=scale.*.*",
		"/metrics/find?query=scale.*",
		"/render?noCache=1&format=json&target=split.m&from=" + from + "&until=" + until,
	}
	addrs := []string{nodes[instances[0]].http, nodes[instances[1]].http}
	for _, variant := range []struct{ name, suffix, post string }{{"pickle", "", ""}, {"msgpack", "?format=msgpack", ""}, {"pickle-post", "", "1"}} {
		cmd := exec.Command("/usr/bin/python3", "testdata/cluster/graphite_front.py")
		cmd.Env = append(os.Environ(), "CLUSTER_DIR="+t.TempDir(),
			"CLUSTER_SERVERS="+addrs[0]+variant.suffix+","+addrs[1]+variant.suffix, "CLUSTER_USE_POST="+variant.post)
		in, _ := json.Marshal(requests)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: graphite-web: %v\n%s", variant.name, err, stderr.String())
		}
		var resp []struct {
			Status int    `json:"status"`
			Body   string `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		for i, r := range resp {
			if r.Status != 200 {
				t.Fatalf("%s: %s: status %d: %s", variant.name, requests[i], r.Status, r.Body)
			}
		}
		all := renderJSON(t, resp[0].Body)
		if len(all) != len(metrics) {
			t.Errorf("%s: graphite-web returned %d series, want %d", variant.name, len(all), len(metrics))
		}
		for i, m := range metrics {
			checkPoints(t, variant.name+" "+m, all[m], ts0, values(i))
		}
		summed := renderJSON(t, resp[1].Body)
		checkPoints(t, variant.name+" sumSeries", summed["sumSeries(scale.*.*)"], ts0, sum)

		var comp struct {
			Metrics []struct {
				Path string `json:"path"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal([]byte(resp[2].Body), &comp); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, m := range comp.Metrics {
			paths = append(paths, m.Path)
		}
		want := append([]string(nil), metrics...)
		sort.Strings(paths)
		sort.Strings(want)
		if strings.Join(paths, " ") != strings.Join(want, " ") {
			t.Errorf("%s: find union\n got %v\nwant %v", variant.name, paths, want)
		}
		var tree []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(resp[3].Body), &tree); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range tree {
			ids = append(ids, n.ID)
		}
		if strings.Join(ids, " ") != "scale.cache scale.db scale.queue scale.web" {
			t.Errorf("%s: treejson ids %v", variant.name, ids)
		}
		// REMOTE_STORE_MERGE_RESULTS fills one node's gaps from the other.
		checkPoints(t, variant.name+" split.m", renderJSON(t, resp[4].Body)["split.m"], ts0, []*float64{fp(1.5), fp(2.5), nil, nil})
	}
}

// checkCarbonapiUnion does what carbonapi's broadcast backends do: ask
// every node in carbonapi_v3_pb (MultiGlobRequest / MultiFetchRequest
// bodies) and carbonapi_v2_pb, and merge. The union must be every metric
// exactly once with exact values.
func checkCarbonapiUnion(t *testing.T, nodes map[string]*proc, metrics []string, replication int, ts0 int64, values func(int) []*float64) {
	t.Helper()
	found := map[string]int{}
	v3vals := map[string][]float64{}
	v2vals := map[string]carbonapipb.FetchResponseV2{}
	for _, p := range nodes {
		status, body := httpDo(t, "GET", "http://"+p.http+"/metrics/find/?format=carbonapi_v3_pb",
			string(carbonapipb.AppendMultiGlobRequest(nil, &carbonapipb.MultiGlobRequest{Metrics: []string{"scale.*.*"}})))
		if status != 200 {
			t.Fatalf("v3 find: %d %s", status, body)
		}
		gs, err := carbonapipb.DecodeMultiGlobResponse([]byte(body))
		if err != nil || len(gs) != 1 || gs[0].Name != "scale.*.*" {
			t.Fatalf("v3 find: %v %+v", err, gs)
		}
		for _, m := range gs[0].Matches {
			if m.IsLeaf {
				found[m.Path]++
			}
		}
		status, body = httpDo(t, "POST", "http://"+p.http+"/render/?format=carbonapi_v3_pb",
			string(carbonapipb.AppendMultiFetchRequest(nil, []carbonapipb.FetchRequest{{Name: "scale.*.*", StartTime: ts0 - 10, StopTime: ts0 + 30}})))
		if status != 200 {
			t.Fatalf("v3 render: %d %s", status, body)
		}
		rs, err := carbonapipb.DecodeMultiFetchV3([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.StartTime != ts0 || r.StepTime != 10 || r.StopTime != ts0+40 || r.PathExpression != "scale.*.*" {
				t.Errorf("v3 %s: start %d step %d stop %d pathExpression %q", r.Name, r.StartTime, r.StepTime, r.StopTime, r.PathExpression)
			}
			v3vals[r.Name] = r.Values
		}
		status, body = httpDo(t, "GET", fmt.Sprintf("http://%s/render/?format=protobuf&target=scale.*.*&from=%d&until=%d", p.http, ts0-10, ts0+30), "")
		if status != 200 {
			t.Fatalf("v2 render: %d %s", status, body)
		}
		r2, err := carbonapipb.DecodeMultiFetchV2([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range r2 {
			v2vals[r.Name] = r
		}
	}
	for i, m := range metrics {
		if found[m] != replication {
			t.Errorf("v3 find: %s on %d nodes", m, found[m])
		}
		want := values(i)
		got, g2 := v3vals[m], v2vals[m]
		if len(got) != len(want) || len(g2.Values) != len(want) || g2.StartTime != int32(ts0) || g2.StepTime != 10 {
			t.Errorf("%s: v3 %v v2 %+v", m, got, g2)
			continue
		}
		for k, w := range want {
			if w == nil {
				if !math.IsNaN(got[k]) || !g2.IsAbsent[k] {
					t.Errorf("%s[%d]: v3 %v v2 absent=%v, want absent", m, k, got[k], g2.IsAbsent[k])
				}
			} else if got[k] != *w || g2.Values[k] != *w || g2.IsAbsent[k] {
				t.Errorf("%s[%d]: v3 %v v2 %v, want %v", m, k, got[k], g2.Values[k], *w)
			}
		}
	}
}
