package loadtest

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/realdata"
)

// realisticPoints is what a realistic run of steps sends: each series'
// present values in step order, by name under prefix, and the entropy.
func realisticPoints(d *realdata.Dataset, prefix string, steps int) (map[string][]float64, int, float64) {
	e := realdata.NewEntropy(d)
	vals := map[string][]float64{}
	n := 0
	for p := 0; p < steps; p++ {
		for i := 0; i < d.Len(); i++ {
			v, ok := d.Next(i)
			e.Add(i, v, ok)
			if ok {
				vals[prefix+"."+d.Name(i)] = append(vals[prefix+"."+d.Name(i)], v)
				n++
			}
		}
	}
	return vals, n, e.BytesPerPoint()
}

// TestRealisticData runs the realistic scenario's payload against the
// loopback sink: every present value of the collectd tree arrives exactly
// (gaps of sparse series are not sent), one series per connection in time
// order, and the report carries the data's entropy.
func TestRealisticData(t *testing.T) {
	sink := newTestSink(t, CarbonTCP)
	cfg := Config{Proto: CarbonTCP, Addr: sink.addr, Conns: 3, Points: 40, Step: 10 * time.Second,
		Shape: Shape{Prefix: "lt.real", Metrics: 70, Data: DataCollectd, Seed: 7}} // 70 rounds up to 2 hosts
	cfg.Committed = "prom:" + sink.http.URL + "/metrics#" + MetricCommitted
	cfg.Settle, cfg.Wait = 3*time.Second, 20*time.Second
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, n, entropy := realisticPoints(realdata.Collectd(7, 2), "lt.real", 40)
	if n == 40*76 {
		t.Fatalf("the collectd tree had no gap in %d points: the sparse series are missing", n)
	}
	if rep.Metrics != 76 || rep.PointsSent != int64(n) || !rep.AllCommitted || len(rep.Errors) > 0 {
		t.Fatalf("metrics %d sent %d all %v errors %v; want 76 metrics, %d sent and committed", rep.Metrics, rep.PointsSent, rep.AllCommitted, rep.Errors, n)
	}
	// (Entropy sums over maps: the last bits depend on their order.)
	if rep.Data != DataCollectd || math.Abs(rep.EntropyBytesPerPoint-entropy) > 1e-9 || entropy <= 0 {
		t.Fatalf("report data %q entropy %v, want collectd and %v", rep.Data, rep.EntropyBytesPerPoint, entropy)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bad) > 0 || len(sink.values) != len(want) {
		t.Fatalf("sink: %d bad lines, %d series; want %d series", len(sink.bad), len(sink.values), len(want))
	}
	decimals := 0
	for name, vs := range want {
		got := sink.values[name]
		if len(got) != len(vs) {
			t.Fatalf("%s: %d points, want %d", name, len(got), len(vs))
		}
		for k, v := range vs {
			if got[k][0] != v {
				t.Fatalf("%s point %d: %v, want %v", name, k, got[k][0], v)
			}
			if k > 0 && got[k][1] <= got[k-1][1] {
				t.Fatalf("%s: timestamps out of order at point %d", name, k)
			}
			if v != math.Trunc(v) {
				decimals++
			}
		}
	}
	if decimals == 0 {
		t.Fatal("no value with decimals: the gauges are missing")
	}
	var out bytes.Buffer
	if err := rep.WriteSummary(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "data entropy") {
		t.Fatalf("summary has no entropy line:\n%s", out.String())
	}
}

// TestRealisticConfig: the realistic data refuses what would misname or
// misvalue it, and the scenario is registered with its defaults.
func TestRealisticConfig(t *testing.T) {
	sc, ok := Scenarios["realistic"]
	if !ok || sc.Config.Shape.Data != DataCollectd || sc.Config.StoreSettle <= 0 {
		t.Fatalf("realistic scenario: %+v", sc)
	}
	for _, c := range []Config{
		{Proto: StatsdUDP, Shape: Shape{Metrics: 10, Data: DataGauges}},
		{Proto: CarbonTCP, Realtime: true, Shape: Shape{Metrics: 10, Data: DataGauges}},
		{Proto: CarbonTCP, Shape: Shape{Metrics: 10, Data: DataGauges, Churn: 0.5}},
		{Proto: CarbonTCP, Shape: Shape{Metrics: 10, Data: DataGauges, Decimals: 9}},
		{Proto: CarbonTCP, Shape: Shape{Metrics: 10, Data: "random"}},
	} {
		if err := c.defaults(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
}

// TestPlumbagoRealistic sends noisy two-decimal gauges over pickle to a
// real Plumbago on pebble: every point is committed, a series reads back
// exactly, and the report has the disk use and the entropy.
func TestPlumbagoRealistic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts plumbago")
	}
	srv := startPlumbago(t, "pebble")
	cfg := Config{Proto: Pickle, Addr: srv.pickle, Conns: 2, Points: 60, Step: 10 * time.Second,
		Shape: Shape{Prefix: "lt.realg", Metrics: 200, Data: DataGauges, Decimals: 2, Seed: 3}}
	cfg.Committed = "prom:" + srv.httpBase + "/metrics#" + MetricCommitted
	cfg.ServerPID, cfg.ServerDataDir = srv.pid, srv.dataDir
	cfg.Settle, cfg.Wait = 10*time.Second, time.Minute
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, n, entropy := realisticPoints(realdata.Gauges(3, 200, 2), "lt.realg", 60)
	if rep.PointsSent != int64(n) || n != 200*60 || !rep.AllCommitted || len(rep.Errors) > 0 {
		t.Fatalf("sent %d all %v errors %v; want %d sent and committed", rep.PointsSent, rep.AllCommitted, rep.Errors, n)
	}
	if math.Abs(rep.EntropyBytesPerPoint-entropy) > 1e-9 || rep.ServerPeakRSS <= 0 {
		t.Fatalf("entropy %v (want %v), peak RSS %d", rep.EntropyBytesPerPoint, entropy, rep.ServerPeakRSS)
	}
	name := "lt.realg.gauges.b000.s042"
	now := time.Now().Unix()
	series, err := render(context.Background(), httpClient(), srv.httpBase+"/render", name, now-900, now+60)
	if err != nil || len(series) != 1 {
		t.Fatalf("render %s: %d series, %v", name, len(series), err)
	}
	var got []float64
	for _, dp := range series[0].Datapoints {
		if dp[0] != nil && !math.IsNaN(float64(*dp[0])) {
			got = append(got, float64(*dp[0]))
		}
	}
	if len(got) != len(want[name]) {
		t.Fatalf("%s: %d points back, want %d", name, len(got), len(want[name]))
	}
	for k, v := range want[name] {
		if got[k] != v {
			t.Fatalf("%s point %d: %v back, %v sent", name, k, got[k], v)
		}
	}
}
