package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
)

// effective is everything serve takes from a config: the top-level keys
// (not the classic files' paths), the [statsd] and [carbon] tables as
// their loaders resolve them.
func effective(t *testing.T, c Config) string {
	t.Helper()
	skip := map[string]bool{"carbon-config": true, "carbon-instance": true, "statsd-config": true, "graphite-api-config": true, "statsd": true, "carbon": true}
	var b strings.Builder
	v := reflect.ValueOf(c)
	for i := 0; i < v.NumField(); i++ {
		tag := strings.Split(v.Type().Field(i).Tag.Get("toml"), ",")[0]
		if tag == "" || skip[tag] {
			continue
		}
		fmt.Fprintf(&b, "%s=%v\n", tag, v.Field(i).Interface())
	}
	st, _, err := loadStatsdConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := loadCarbonFiles(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "statsd=%+v\ncarbon=%+v\nrules=%v\n", st, cf.cc, cf.rules != nil)
	return b.String()
}

// TestMigrateEquivalent migrates Debian's carbon.conf (with its CONF_DIR
// files), etsy's exampleConfig.js and the commented config.js, and a
// graphite-api.yaml, and checks serve gets the same settings from the
// written TOML alone as from the classic files themselves.
func TestMigrateEquivalent(t *testing.T) {
	for _, js := range []string{"example", "commented"} {
		t.Run(js, func(t *testing.T) {
			dir := t.TempDir()
			conf := debianCarbonConf(t, dir)
			// Two keys Debian leaves commented: the lists and an idle timeout.
			writeFile(t, dir, "carbon.conf", strings.Replace(mustRead(t, conf), "[cache]\n", "[cache]\nUSE_WHITELIST = True\nMETRIC_CLIENT_IDLE_TIMEOUT = 300\n", 1))
			writeFile(t, dir, "storage-schemas.conf", "[all]\npattern = .*\nretentions = 10s:1d\n")
			writeFile(t, dir, "storage-aggregation.conf", "[all]\npattern = .*\nxFilesFactor = 0\naggregationMethod = sum\n")
			writeFile(t, dir, "aggregation-rules.conf", "agg.<a>.sum (10) = sum <a>.*\n")
			writeFile(t, dir, "rewrite-rules.conf", "[pre]\n^old\\. = new.\n")
			writeFile(t, dir, "whitelist.conf", "^app\\.\n")
			statsdJS := writeFile(t, dir, "config.js", commentedStatsdConfig)
			if js == "example" {
				statsdJS = testenv.EtsyStatsdFile(t, "exampleConfig.js")
			}
			yml := writeFile(t, dir, "graphite-api.yaml", "finders:\n  - graphite_api.finders.whisper.WhisperFinder\nwhisper:\n  directories:\n    - "+dir+"\ntime_zone: Europe/Berlin\nallowed_origins:\n  - a.example.com\n  - b.example.com:3000\n")
			pw := writeFile(t, dir, "htpasswd", "u:{PLAIN}x\n")
			classic, err := loadConfig("serve", []string{"--carbon-config", conf, "--statsd-config", statsdJS, "--graphite-api-config", yml,
				"--http-auth-file", pw, "--whisper-dir", dir, "--data-dir", filepath.Join(dir, "data")})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "plumbago.toml")
			var report bytes.Buffer
			if err := runMigrate([]string{"--carbon-conf-dir", dir, "--statsd-config", statsdJS, "--graphite-api-config", yml,
				"--htpasswd", pw, "--whisper-dir", dir, "--data-dir", filepath.Join(dir, "data"), "--out", out}, &report); err != nil {
				t.Fatalf("%v\n%s", err, report.String())
			}
			migrated, err := loadConfig("serve", []string{"--config", out})
			if err != nil {
				t.Fatal(err)
			}
			if g, w := effective(t, migrated), effective(t, classic); g != w {
				t.Errorf("the written config differs from the classic files:\n got  %s\n want %s\nconfig:\n%s", g, w, mustRead(t, out))
			}
			cf, err := loadCarbonFiles(migrated, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil || cf.cc.Whitelist != filepath.Join(dir, "whitelist.conf") || migrated.IngestIdleTimeout.Duration != 300*time.Second || cf.rules == nil || cf.rw.rewrite == nil {
				t.Errorf("USE_WHITELIST, METRIC_CLIENT_IDLE_TIMEOUT, the rule files: %v %+v %v", err, cf.cc, migrated.IngestIdleTimeout)
			}
			if len(migrated.classicNotes) != 0 || migrated.CarbonConfig != "" {
				t.Errorf("the written config still reads classic files: %q", migrated.CarbonConfig)
			}
			// Every key of the classic files is in the report, once.
			for _, n := range classic.classicNotes {
				if n.Key == "PICKLE_RECEIVER_PORT" || strings.HasPrefix(n.Key, "CONF_DIR") {
					continue // set by flag on one side only; CONF_DIR is read differently by design
				}
				line := fmt.Sprintf("  %s: %s = %q", n.Where, n.Key, n.Value)
				if c := strings.Count(report.String(), line+" ") + strings.Count(report.String(), line+":"); c != 1 {
					t.Errorf("report has %q %d times", line, c)
				}
			}
			if !strings.Contains(report.String(), "htpasswd "+pw+": 1 users ({PLAIN} 1) -> http-auth-file") ||
				!strings.Contains(report.String(), "  warning: ") {
				t.Errorf("report on the htpasswd file:\n%s", report.String())
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMigrateUnsupported: settings without an equivalent are listed under
// "unsupported", left out of the config, and make migrate exit non-zero;
// an existing config is never overwritten.
func TestMigrateUnsupported(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "carbon.conf", "[cache]\nDATABASE = ceres\nLINE_RECEIVER_PORT = 2103\nLOG_UPDATES = False\n")
	js := writeFile(t, dir, "config.js", "{ backends: ['./backends/repeater'], repeater: [{host: 'x', port: 8125}], percentThreshhold: 95 }")
	out := filepath.Join(dir, "p.toml")
	var report bytes.Buffer
	err := runMigrate([]string{"--carbon-conf-dir", dir, "--statsd-config", js, "--out", out}, &report)
	if err == nil || !strings.Contains(err.Error(), "3 setting(s) have no Plumbago equivalent") {
		t.Fatalf("err = %v\n%s", err, report.String())
	}
	for _, want := range []string{
		"unsupported (left out of the config) (3):\n",
		dir + `/carbon.conf:2: DATABASE = "ceres": only whisper (or Plumbago's pebble) is supported` + "\n",
		`config.js:1: backends = "./backends/repeater": only the graphite backend exists here`,
		`config.js:1: repeater = "[map[host:x port:8125]]": the repeater backend is not kept`,
		`config.js:1: percentThreshhold = "95": not an option etsy statsd 0.10 or its graphite backend reads`,
		dir + `/carbon.conf:3: LINE_RECEIVER_PORT = "2103" -> --carbon-addr :2103` + "\n",
		dir + `/carbon.conf:4: LOG_UPDATES = "False": per-update logs are not written`,
	} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
	text := mustRead(t, out)
	if strings.Contains(text, "backend =") || !strings.Contains(text, `carbon-addr = ":2103"`) {
		t.Errorf("config:\n%s", text)
	}
	if err := runMigrate([]string{"--carbon-conf-dir", dir, "--out", out}, io.Discard); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Errorf("second migrate onto the same --out: %v", err)
	}
	if err := runMigrate(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "nothing to migrate") {
		t.Errorf("migrate without inputs: %v", err)
	}
}

// TestClassicDefaultsAndRefusals: a [DEFAULT] FORWARD_ALL reaches
// [aggregator] as in carbon (reported there, not as an unknown [cache]
// key); ENABLE_UDP_LISTENER = True opens UDP on UDP_RECEIVER_*; a
// config.js flushInterval or backends of the wrong type is refused.
func TestClassicDefaultsAndRefusals(t *testing.T) {
	dir := t.TempDir()
	conf := writeFile(t, dir, "carbon.conf", "[DEFAULT]\nFORWARD_ALL = False\n[cache]\nENABLE_UDP_LISTENER = True\nUDP_RECEIVER_INTERFACE = 127.0.0.1\nUDP_RECEIVER_PORT = 2103\n[aggregator]\nMAX_AGGREGATION_INTERVALS = 3\n")
	c, err := loadConfig("serve", []string{"--carbon-config", conf})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := loadCarbonFiles(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if cf.cc.ForwardAll || cf.cc.MaxAggregationIntervals != 3 || c.CarbonUDPAddr != "127.0.0.1:2103" {
		t.Errorf("forward-all %v, max intervals %d, udp %q; want false, 3, 127.0.0.1:2103", cf.cc.ForwardAll, cf.cc.MaxAggregationIntervals, c.CarbonUDPAddr)
	}
	var fwd []string
	for _, n := range c.classicNotes {
		if n.Key == "FORWARD_ALL" {
			fwd = append(fwd, n.String())
		}
	}
	if want := conf + `:2: FORWARD_ALL = "False": honoured: [carbon] forward-all = false`; len(fwd) != 1 || fwd[0] != want {
		t.Errorf("FORWARD_ALL notes %q; want [%q]", fwd, want)
	}
	for body, want := range map[string]string{
		"{ flushInterval: '10s' }": `flushInterval = "10s": want milliseconds as a number`,
		"{ backends: 'graphite' }": `backends = "graphite": want a list of backends`,
	} {
		js := writeFile(t, dir, "c.js", body)
		if _, err := loadConfig("serve", []string{"--statsd-config", js}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v; want %q", body, err, want)
		}
	}
}
