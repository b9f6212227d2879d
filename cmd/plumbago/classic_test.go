package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
)

// debianCarbonConf copies Debian's stock carbon.conf (graphite-carbon,
// installed by scripts/test-deps.sh) into dir with CONF_DIR pointing at dir.
func debianCarbonConf(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("/etc/carbon/carbon.conf")
	if err != nil {
		testenv.Missing(t, "/etc/carbon/carbon.conf missing (apt graphite-carbon): %v", err)
	}
	s := strings.Replace(string(b), "\nCONF_DIR       = /etc/carbon/", "\nCONF_DIR       = "+dir, 1) // not the commented one above it
	if s == string(b) {
		t.Fatal("Debian's carbon.conf has no CONF_DIR line to point at the test directory")
	}
	p := filepath.Join(dir, "carbon.conf")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const commentedStatsdConfig = `/* statsd for the app servers */
{
  port: 8000 + 125,                 // statsd's port
  mgmt_port: 8126,
  flushInterval: 5 * 1000,
  percentThreshold: [90, 99],
  backends: [ "./backends/graphite" ],
  graphiteHost: "127.0.0.1",
  keyFlush: { interval: 1000 },
  graphite: { legacyNamespace: false, globalPrefix: ["stats", "prod"].join(".") },
}
`

func TestClassicFilesMapped(t *testing.T) {
	dir := t.TempDir()
	conf := debianCarbonConf(t, dir)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("storage-schemas.conf", "[all]\npattern = .*\nretentions = 10s:1d\n")
	js := write("config.js", commentedStatsdConfig)
	yml := write("graphite-api.yaml", "finders:\n  - graphite_api.finders.whisper.WhisperFinder\ntime_zone: Europe/Berlin\nallowed_origins:\n  - dashboard.example.com\ncache:\n  type: redis\n")
	c, err := loadConfig("serve", []string{"--carbon-config", conf, "--statsd-config", js, "--graphite-api-config", yml,
		"--pickle-addr", "127.0.0.1:1", "--whisper-dir", dir})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %s %s %s %s %s %s %v", c.Backend, c.CarbonAddr, c.CarbonUDPAddr, c.PickleAddr, c.StatsdAddr,
		c.StatsdFlushInterval.Duration, c.TimeZone, c.HTTPAllowedOrigins, filepath.Base(c.Schemas), c.WhisperDir == dir)
	if want := "whisper :2003 off 127.0.0.1:1 :8125 5s Europe/Berlin dashboard.example.com storage-schemas.conf true"; got != want {
		t.Errorf("config\n got  %s\n want %s", got, want)
	}
	notes := map[string]string{}
	for _, n := range c.classicNotes {
		if _, seen := notes[n.Key]; !seen { // [cache] comes first
			notes[n.Key] = n.String()
		}
	}
	for key, want := range map[string]string{
		"MAX_UPDATES_PER_SECOND": conf + `:70: MAX_UPDATES_PER_SECOND = "500": honoured: --max-updates-per-second 500`,
		"MAX_CREATES_PER_MINUTE": conf + `:86: MAX_CREATES_PER_MINUTE = "50": honoured: --max-creates-per-minute 50`,
		"PICKLE_RECEIVER_PORT":   conf + `:117: PICKLE_RECEIVER_PORT = "2004": no effect: --pickle-addr "127.0.0.1:1" given explicitly wins`,
		"LOCAL_DATA_DIR":         conf + `:34: LOCAL_DATA_DIR = "/var/lib/graphite/whisper/": no effect: --whisper-dir`,
		"ENABLE_UDP_LISTENER":    conf + `:109: ENABLE_UDP_LISTENER = "False": honoured: --carbon-udp-addr off`,
		"FORWARD_ALL":            conf + `:582: FORWARD_ALL = "True": honoured: [carbon] forward-all = true`,
		"keyFlush":               js + `:9: keyFlush = "map[interval:1000]": no effect: top-key logging is not kept`,
		"graphite.globalPrefix":  js + `:10: graphite.globalPrefix = "stats.prod": honoured: [statsd.graphite] globalPrefix`,
		"percentThreshold":       js + `:6: percentThreshold = "[90 99]": honoured: [statsd] percentThreshold`,
		"cache.type":             yml + `:7: cache.type = "redis": no effect: the render cache is built in`,
	} {
		if !strings.HasPrefix(notes[key], want) {
			t.Errorf("note for %s:\n got  %s\n want %s…", key, notes[key], want)
		}
	}
	cfg, _, err := loadStatsdConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.PercentThreshold) != "[90 99]" || cfg.Graphite.GlobalPrefix != "stats.prod" || cfg.Graphite.LegacyNamespace {
		t.Errorf("statsd config from config.js: %+v", cfg)
	}
}

// TestCarbonRateLimitsMapped: carbon's MAX_CREATES_PER_MINUTE and
// MAX_UPDATES_PER_SECOND become the rate-limit flags; inf is no limit; the
// update limit has no effect on pebble; a flag given wins.
func TestCarbonRateLimitsMapped(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "carbon.conf")
	if err := os.WriteFile(conf, []byte("[cache]\nMAX_CREATES_PER_MINUTE = 120\nMAX_UPDATES_PER_SECOND = inf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args             []string
		creates, updates int
		note             string
	}{
		{[]string{"--backend", "whisper"}, 120, 0, `MAX_UPDATES_PER_SECOND = "inf": honoured: no limit (--max-updates-per-second 0)`},
		{[]string{"--backend", "whisper", "--max-creates-per-minute", "7"}, 7, 0, `MAX_CREATES_PER_MINUTE = "120": no effect: --max-creates-per-minute "7" given explicitly wins`},
	} {
		c, err := loadConfig("serve", append([]string{"--carbon-config", conf, "--whisper-dir", dir}, tc.args...))
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, n := range c.classicNotes {
			notes = append(notes, n.String())
		}
		if c.MaxCreatesPerMinute != tc.creates || c.MaxUpdatesPerSecond != tc.updates || !strings.Contains(strings.Join(notes, "\n"), tc.note) {
			t.Errorf("%v: creates %d updates %d, notes:\n%s\nwant %d, %d and %q", tc.args, c.MaxCreatesPerMinute, c.MaxUpdatesPerSecond,
				strings.Join(notes, "\n"), tc.creates, tc.updates, tc.note)
		}
	}
	if err := os.WriteFile(conf, []byte("[cache]\nMAX_UPDATES_PER_SECOND = 500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig("serve", []string{"--carbon-config", conf, "--whisper-dir", dir, "--backend", "pebble"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxUpdatesPerSecond != 0 || len(c.classicNotes) == 0 || !strings.Contains(c.classicNotes[len(c.classicNotes)-1].String(), "no effect: the pebble backend batches writes") {
		t.Errorf("pebble: updates %d, notes %v", c.MaxUpdatesPerSecond, c.classicNotes)
	}
}

func TestClassicFilesRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--carbon-config", write("a.conf", "[cache]\nDATABASE = ceres\n")}, `a.conf:2: DATABASE = "ceres": only whisper`},
		{[]string{"--carbon-config", write("b.conf", "[cache]\nENABLE_UDP_LISTENER = sometimes\n")}, `b.conf:2: ENABLE_UDP_LISTENER = "sometimes": not a boolean`},
		{[]string{"--carbon-config", write("c.conf", "[cache]\nA = 1\nA = 2\n")}, `c.conf:3: A set twice in [cache]`},
		{[]string{"--carbon-config", write("d.conf", "[cache]\nMAX_CREATES_PER_MINUTE = 1.5\n")}, `d.conf:2: MAX_CREATES_PER_MINUTE = "1.5": want a whole number from 1, or inf`},
		{[]string{"--statsd-config", write("r.js", "{ backends: ['./backends/repeater'], repeater: [{host: 'x', port: 8125}] }")}, `r.js:1: backends = "./backends/repeater": only the graphite backend`},
		{[]string{"--statsd-config", write("q.js", "{ port: require('x') }")}, `require is not defined`},
		{[]string{"--graphite-api-config", write("g.yaml", "finders:\n  - graphite_influxdb.InfluxdbFinder\n")}, `g.yaml:1: finders = "graphite_influxdb.InfluxdbFinder": only whisper data`},
		{[]string{"--graphite-api-config", write("h.yaml", "time_zone: Mars/Olympus\n")}, `h.yaml:1: time_zone = "Mars/Olympus": unknown time zone`},
	} {
		_, err := loadConfig("serve", tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v; want %q", tc.args, err, tc.want)
		}
	}
}

// TestCarbonConfUDPOff serves with Debian's carbon.conf: UDP is off, as
// ENABLE_UDP_LISTENER = False says, and TCP works.
func TestCarbonConfUDPOff(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	conf := debianCarbonConf(t, dir)
	p := startPlumbago(t, bin, "--data-dir", dir, "--carbon-config", conf, "--backend", "pebble", "--whisper-dir", filepath.Join(dir, "w"))
	defer p.stop(t)
	u, err := net.Dial("udp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	fmt.Fprintf(u, "udp.metric 1 %d\n", now)
	u.Close()
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "tcp.metric 2 %d\n", now)
	c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for p.metric(t, "plumbago_points_received_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the TCP point never arrived")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := readAll(t, "http://"+p.http+"/metrics/find?query=*&format=completer"); strings.Contains(got, "udp") || !strings.Contains(got, "tcp") {
		t.Fatalf("find: %s", got)
	}
	if !p.waitLog(`key=ENABLE_UDP_LISTENER value=False effect=honoured`) {
		t.Fatalf("start log lacks the ENABLE_UDP_LISTENER note:\n%s", p.log)
	}
	// check-config prints the same report and passes.
	out, err := exec.Command(bin, "check-config", "--carbon-config", conf, "--whisper-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "MAX_CREATES_PER_MINUTE = \"50\": honoured: --max-creates-per-minute 50") {
		t.Fatalf("check-config: %v\n%s", err, out)
	}
}
