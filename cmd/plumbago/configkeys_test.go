package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnknownKeysNamed checks every table of the TOML config refuses a
// misspelt key and names the closest valid one (issue #12: percentThreshhold,
// legacyNamespce and forward-alll passed silently).
func TestUnknownKeysNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.toml")
	body := `data-dirr = "x"
[statsd]
percentThreshhold = [90]
legacyNamespce = true
[statsd.graphite]
globalPrefx = "s"
[[statsd.histogram]]
metric = "a"
binz = [1]
[carbon]
forward-alll = true
zzzzzzzzzzzzzz = 1
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig("check-config", []string{"--config", path})
	want := `config "` + path + `": unknown key "data-dirr" (did you mean "data-dir"?); ` +
		`unknown key "statsd.percentThreshhold" (did you mean "statsd.percentThreshold"?); ` +
		`unknown key "statsd.legacyNamespce" (did you mean "statsd.graphite.legacyNamespace"?); ` +
		`unknown key "statsd.graphite.globalPrefx" (did you mean "statsd.graphite.globalPrefix"?); ` +
		`unknown key "statsd.histogram.binz" (did you mean "statsd.histogram.bins"?); ` +
		`unknown key "carbon.forward-alll" (did you mean "carbon.forward-all"?); ` +
		`unknown key "carbon.zzzzzzzzzzzzzz"`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	good := filepath.Join(t.TempDir(), "g.toml")
	if err := os.WriteFile(good, []byte("[statsd]\npercentThreshold = [90]\n[statsd.graphite]\nlegacyNamespace = false\n[carbon]\nforward-all = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig("check-config", []string{"--config", good}); err != nil {
		t.Fatalf("valid file refused: %v", err)
	}
}
