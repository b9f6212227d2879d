package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig feeds arbitrary TOML to --config, then through the [statsd]
// and [carbon] loaders: bad files must give errors, never panics, and an
// accepted config must satisfy validate's rules.
func FuzzLoadConfig(f *testing.F) {
	for _, s := range []string{
		"backend = \"whisper\"\ndata-dir = \"/tmp/x\"\n",
		"statsd-flush-interval = \"5s\"\n[statsd]\npercentThreshold = [90, 99]\nlegacyNamespace = false\n",
		"[carbon]\nforward-all = true\nmax-name-length = 200\n",
		"write-buffer = \"512MiB\"\ngomemlimit = \"1GiB\"\nrender-cache = \"-1\"\n",
		"backend = 3\n", "[statsd\n", "flush-interval = \"-1s\"\n", "unknown-key = 1\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig("serve", []string{"--config", path})
		if err != nil {
			return
		}
		if cfg.Backend != "pebble" && cfg.Backend != "whisper" || cfg.DataDir == "" || cfg.FlushInterval.Duration <= 0 {
			t.Fatalf("accepted an invalid config: %+v", cfg)
		}
		_, _, _ = loadStatsdConfig(cfg)
		// The [carbon] table only (loadCarbonFiles would also read whatever
		// files a fuzzed whitelist names).
		var cc carbonConfig
		if cfg.meta.IsDefined("carbon") {
			_ = cfg.meta.PrimitiveDecode(cfg.Carbon, &cc)
		}
	})
}
