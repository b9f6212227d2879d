package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/ingest/ingesttest"
	"github.com/plumbago/plumbago/internal/testenv"
)

// sideBySideRules exercise every stage of carbon-aggregator's pipeline:
// [pre] renames inputs before they are aggregated, the rules aggregate,
// [post] renames what the aggregate step passes on.
const (
	sideBySideAggRules = "agg.<env>.total (5) = sum <env>.app.*.hits\nagg.<env>.n (5) = count <env>.app.*.hits\n"
	sideBySideRewrite  = "[pre]\n^old\\. = prod.\n[post]\n^prod\\.app\\. = post.app.\n^agg\\. = postagg.\n^other\\. = renamed.\n"
)

type pointKey = ingesttest.NameTS

// storedPoints renders every series Plumbago holds (but its own
// carbon.* self-metrics) and returns the non-null points.
func storedPoints(t *testing.T, p *proc, from, until int64) map[pointKey]float64 {
	t.Helper()
	var names []string
	if err := json.Unmarshal([]byte(readAll(t, "http://"+p.http+"/metrics/index.json")), &names); err != nil {
		t.Fatal(err)
	}
	out := map[pointKey]float64{}
	for _, n := range names {
		if strings.HasPrefix(n, "carbon.") {
			continue
		}
		for _, s := range getSeries(t, fmt.Sprintf("http://%s/render?format=json&noCache=1&from=%d&until=%d&target=%s", p.http, from, until, url.QueryEscape(n))) {
			for _, dp := range s.Datapoints {
				if dp[0] != nil {
					out[pointKey{Name: s.Target, TS: int64(*dp[1])}] = *dp[0]
				}
			}
		}
	}
	return out
}

// TestAggregatorSideBySide runs Debian's carbon-aggregator and Plumbago on
// the same carbon.conf ([DEFAULT] CONF_DIR, [aggregator] FORWARD_ALL),
// aggregation-rules.conf and rewrite-rules.conf ([pre] and [post]), feeds
// both the same lines, and checks Plumbago stores exactly what
// carbon-aggregator passes on: the same names (after [pre] and [post]),
// timestamps and values, aggregates included, with FORWARD_ALL on and off
// (off: but for the points no rule matches, which Plumbago stores, see below).
func TestAggregatorSideBySide(t *testing.T) {
	aggBin := testenv.Command(t, "carbon-aggregator", "apt graphite-carbon")
	bin := buildBinary(t)
	for _, forwardAll := range []string{"True", "False"} {
		t.Run("FORWARD_ALL="+forwardAll, func(t *testing.T) {
			dir := t.TempDir()
			linePort := ingesttest.FreePort(t)
			dest, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer dest.Close()
			carbonOut := ingesttest.CollectPickle(t, dest)
			conf := writeFile(t, dir, "carbon.conf", fmt.Sprintf(`[DEFAULT]
CONF_DIR = %[1]s
STORAGE_DIR = %[1]s/storage
LOG_DIR = %[1]s/log
PID_DIR = %[1]s
CARBON_METRIC_INTERVAL = 0

[cache]
LOCAL_DATA_DIR = %[1]s/storage/whisper

[aggregator]
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
DESTINATIONS = %[4]s
FORWARD_ALL = %[5]s
MAX_AGGREGATION_INTERVALS = 5
`, dir, linePort, ingesttest.FreePort(t), dest.Addr().String(), forwardAll))
			writeFile(t, dir, "aggregation-rules.conf", sideBySideAggRules)
			writeFile(t, dir, "rewrite-rules.conf", sideBySideRewrite)
			writeFile(t, dir, "storage-schemas.conf", "[all]\npattern = .*\nretentions = 1s:1h\n")

			conn, log := startListening(t, exec.Command(aggBin, "--config="+conf, "--pidfile="+filepath.Join(dir, "agg.pid"),
				"--logdir="+filepath.Join(dir, "log"), "--nodaemon", "start"), fmt.Sprintf("127.0.0.1:%d", linePort), 60*time.Second)
			p := startPlumbago(t, bin, "--carbon-config", conf, "--data-dir", filepath.Join(dir, "plumbago"))
			defer p.stop(t)
			if !p.waitLog(fmt.Sprintf("key=FORWARD_ALL value=%s effect=honoured", forwardAll)) {
				t.Fatalf("plumbago did not take FORWARD_ALL from carbon.conf:\n%s", p.log)
			}

			now := time.Now().Unix()
			base := now - now%5 - 20
			var lines []string
			names := []string{"prod.app.a.hits", "prod.app.b.hits", "old.app.c.hits", "dev.app.a.hits", "other.metric", "prod.db.x"}
			for i := 0; i < 60; i++ {
				name := names[i%len(names)]
				// one point per name and second: whisper keeps the last of a slot
				lines = append(lines, fmt.Sprintf("%s %d %d", name, i*7%23-5, base+int64(i/len(names))))
			}
			payload := strings.Join(lines, "\n") + "\n"
			io.WriteString(conn, payload)
			conn.Close()
			c, err := net.Dial("tcp", p.carbon)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, payload)
			c.Close()

			// Both emit aggregates a few seconds later; poll until they agree.
			var diff []string
			var carbon map[pointKey]float64
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
				carbon = carbonOut()
				ours := storedPoints(t, p, base-10, now+10)
				// One deliberate difference: points no rule matches are
				// stored whatever FORWARD_ALL says. Plumbago takes the
				// traffic carbon-cache got directly as well as
				// carbon-aggregator's; carbon-aggregator alone drops them
				// with FORWARD_ALL = False.
				unmatched := 0
				if forwardAll == "False" {
					for k := range ours {
						if _, inCarbon := carbon[k]; !inCarbon && (k.Name == "prod.db.x" || k.Name == "renamed.metric") {
							delete(ours, k)
							unmatched++
						}
					}
				}
				diff = ingesttest.DiffPoints(carbon, ours, "carbon-aggregator", "plumbago")
				if forwardAll == "False" && unmatched != 20 {
					diff = append(diff, fmt.Sprintf("%d unmatched points stored; want the 20 sent (prod.db.x, other.metric renamed by [post])", unmatched))
				}
				if len(diff) == 0 && len(carbon) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after 60 s Plumbago stores what carbon-aggregator passes on but for:\n  %s\ncarbon-aggregator log:\n%s", strings.Join(diff, "\n  "), log.String())
				}
			}
			// The input covered each stage: [pre] renamed old.*, [post]
			// renamed the raw inputs it saw, aggregates exist.
			stages := map[string]bool{}
			for k := range carbon {
				stages[strings.SplitN(k.Name, ".", 3)[0]+"."+strings.SplitN(k.Name, ".", 3)[1]] = true
			}
			t.Logf("FORWARD_ALL=%s: %d points agree; names seen: %v", forwardAll, len(carbon), stages)
		})
	}
}
