package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/plumbago/plumbago/query/auth"
)

// migrateOptions are `plumbago migrate`'s flags: the paths of an existing
// classic installation and where to write the Plumbago config.
type migrateOptions struct {
	CarbonConfDir     string
	CarbonInstance    string
	StatsdConfig      string
	GraphiteAPIConfig string
	Htpasswd          string
	WhisperDir        string
	DataDir           string
	Backend           string
	Out               string
	Report            string
	given             map[string]bool // flags given on the command line
}

// migration is what migrate read and decided: the config's keys and the
// report's lines.
type migration struct {
	opt    migrateOptions
	cfg    Config
	a      *classic
	users  *auth.Users
	keys   []string // top-level TOML keys to write, in Config's order
	source map[string]string
}

// runMigrate implements `plumbago migrate`: it reads the classic stack's
// files with the same readers serve uses (--carbon-config,
// --statsd-config, --graphite-api-config, --http-auth-file), writes one
// self-contained TOML config and prints the report (also to --report):
// every key mapped, ignored (why) or unsupported, and the command that
// serves or imports the whisper volume. It exits non-zero when a setting
// has no Plumbago equivalent (the config is written without it).
func runMigrate(args []string, stdout io.Writer) error {
	var o migrateOptions
	fl := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fl.SetOutput(stdout)
	fl.StringVar(&o.CarbonConfDir, "carbon-conf-dir", "", "carbon's configuration directory: carbon.conf and the storage-schemas, storage-aggregation, aggregation-rules, rewrite-rules, whitelist and blacklist files found there")
	fl.StringVar(&o.CarbonInstance, "carbon-instance", "", "carbon.conf instance whose [cache:NAME] section overlays [cache]")
	fl.StringVar(&o.StatsdConfig, "statsd-config", "", "etsy statsd's config.js")
	fl.StringVar(&o.GraphiteAPIConfig, "graphite-api-config", "", "graphite-api.yaml")
	fl.StringVar(&o.Htpasswd, "htpasswd", "", "the nginx/apache htpasswd file guarding the API (becomes http-auth-file)")
	fl.StringVar(&o.WhisperDir, "whisper-dir", "", "the whisper tree (default: carbon.conf's LOCAL_DATA_DIR or graphite-api's whisper directories)")
	fl.StringVar(&o.DataDir, "data-dir", "", "Plumbago's data directory (default ./data)")
	fl.StringVar(&o.Backend, "backend", "", "whisper (serve the tree in place; the default with a whisper tree) or pebble (import it)")
	fl.StringVar(&o.Out, "out", "plumbago.toml", "the Plumbago config to write (must not exist)")
	fl.StringVar(&o.Report, "report", "", "also write the report to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments %v", fl.Args())
	}
	o.given = map[string]bool{}
	fl.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	if o.CarbonConfDir == "" && o.StatsdConfig == "" && o.GraphiteAPIConfig == "" && o.Htpasswd == "" && o.WhisperDir == "" {
		return errors.New("migrate: nothing to migrate: give at least one of --carbon-conf-dir, --statsd-config, --graphite-api-config, --htpasswd, --whisper-dir")
	}
	m, err := readInstallation(o)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	text, err := m.configTOML()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	f, err := os.OpenFile(o.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("migrate: writing the config (it is never overwritten): %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("migrate: writing %s: %w", o.Out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("migrate: writing %s: %w", o.Out, err)
	}
	// What serve will read: the written file, checked as check-config does.
	check := checkConfig([]string{"--config", o.Out}, io.Discard, io.Discard)
	report := m.report(check)
	fmt.Fprint(stdout, report)
	if o.Report != "" {
		if err := os.WriteFile(o.Report, []byte(report), 0o644); err != nil {
			return fmt.Errorf("migrate: writing the report: %w", err)
		}
	}
	if check != nil {
		return fmt.Errorf("migrate: the written config %s does not pass check-config: %w", o.Out, check)
	}
	if n := len(m.a.errs); n > 0 {
		return fmt.Errorf("migrate: %d setting(s) have no Plumbago equivalent (listed under \"unsupported\"); %s was written without them", n, o.Out)
	}
	return nil
}

// abs makes a path absolute so the config works from any directory.
func abs(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// readInstallation reads the classic files through the readers serve uses.
func readInstallation(o migrateOptions) (*migration, error) {
	c := DefaultConfig()
	explicit := map[string]bool{}
	if o.CarbonConfDir != "" {
		c.CarbonConfig = abs(filepath.Join(o.CarbonConfDir, "carbon.conf"))
		if _, err := os.Stat(c.CarbonConfig); err != nil {
			return nil, fmt.Errorf("--carbon-conf-dir: %w", err)
		}
	}
	c.CarbonInstance = o.CarbonInstance
	c.StatsdConfig = abs(o.StatsdConfig)
	c.GraphiteAPIConfig = abs(o.GraphiteAPIConfig)
	for _, p := range []struct{ flag, path string }{{"statsd-config", c.StatsdConfig}, {"graphite-api-config", c.GraphiteAPIConfig}} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return nil, fmt.Errorf("--%s: %w", p.flag, err)
		}
	}
	if o.WhisperDir != "" {
		st, err := os.Stat(o.WhisperDir)
		if err != nil {
			return nil, fmt.Errorf("--whisper-dir: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("--whisper-dir %s: not a directory", o.WhisperDir)
		}
		c.WhisperDir, explicit["whisper-dir"] = abs(o.WhisperDir), true
	}
	// Plumbago's own state: written out so import-whisper and serve agree.
	if o.DataDir == "" {
		o.DataDir = "./data"
	}
	c.DataDir, explicit["data-dir"] = abs(o.DataDir), true
	if o.Backend != "" {
		if o.Backend != "whisper" && o.Backend != "pebble" {
			return nil, fmt.Errorf("--backend %q: must be whisper or pebble", o.Backend)
		}
		c.Backend, explicit["backend"] = o.Backend, true
	}
	m := &migration{opt: o, source: map[string]string{}}
	if o.Htpasswd != "" {
		u, err := auth.Load(o.Htpasswd)
		if err != nil {
			return nil, fmt.Errorf("--htpasswd: %w", err)
		}
		m.users = u
		c.HTTPAuthFile, explicit["http-auth-file"] = abs(o.Htpasswd), true
	}
	a := newClassic(&c, explicit)
	if o.CarbonConfDir != "" {
		a.confDir = abs(o.CarbonConfDir)
	}
	if err := a.read(); err != nil {
		return nil, err
	}
	// A whisper tree and no backend chosen: serve it in place.
	if !explicit["backend"] && a.setBy["backend"].Key == "" && (explicit["whisper-dir"] || a.setBy["whisper-dir"].Key != "") {
		c.Backend, explicit["backend"] = "whisper", true
		m.source["backend"] = "a whisper tree is served in place (migrate --backend pebble imports it instead)"
	}
	m.cfg, m.a = c, a
	for k := range explicit {
		if m.source[k] == "" {
			flagName := k
			if k == "http-auth-file" {
				flagName = "htpasswd"
			}
			m.source[k] = "migrate --" + flagName
		}
	}
	for k, n := range a.setBy {
		m.source[k] = n.Where + " " + n.Key
	}
	rt := reflect.TypeFor[Config]()
	for i := 0; i < rt.NumField(); i++ {
		tag := strings.Split(rt.Field(i).Tag.Get("toml"), ",")[0]
		if _, ok := m.source[tag]; ok {
			m.keys = append(m.keys, tag)
		}
	}
	return m, nil
}

// tomlScalar is a config value as the TOML file spells it.
func tomlScalar(v reflect.Value) any {
	switch x := v.Interface().(type) {
	case Duration:
		return x.Duration.String()
	case time.Duration:
		return x.String()
	case ByteSize:
		return x.String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return v.Int()
	case reflect.Float64:
		return v.Float()
	}
	return v.Interface()
}

// fieldByTag finds the struct field with the TOML key tag.
func fieldByTag(v reflect.Value, tag string) (reflect.Value, bool) {
	rt := v.Type()
	for i := 0; i < rt.NumField(); i++ {
		if strings.Split(rt.Field(i).Tag.Get("toml"), ",")[0] == tag {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// tomlLine encodes one key = value line.
func tomlLine(key string, v any) (string, error) {
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(map[string]any{key: v}); err != nil {
		return "", fmt.Errorf("encoding %s: %w", key, err)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// configTOML is the config file migrate writes: the top-level keys the
// files and flags set, the [carbon] and [statsd] tables they became, each
// key with where it came from.
func (m *migration) configTOML() (string, error) {
	var b strings.Builder
	b.WriteString("# Plumbago config written by `plumbago migrate` from:\n")
	for _, src := range []struct{ what, path string }{
		{"carbon.conf", m.cfg.CarbonConfig}, {"statsd config.js", m.cfg.StatsdConfig},
		{"graphite-api.yaml", m.cfg.GraphiteAPIConfig}, {"htpasswd", m.cfg.HTTPAuthFile}, {"whisper tree", m.cfg.WhisperDir},
	} {
		if src.path != "" {
			fmt.Fprintf(&b, "#   %-18s %s\n", src.what, src.path)
		}
	}
	b.WriteString("# Each key says where it came from; the report lists what was left out and why.\n\n")
	cv := reflect.ValueOf(m.cfg)
	for _, k := range m.keys {
		f, _ := fieldByTag(cv, k)
		line, err := tomlLine(k, tomlScalar(f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s  # %s\n", line, m.source[k])
	}
	if len(m.a.carbonKeys) > 0 {
		var cc carbonConfig
		for _, apply := range m.cfg.classicCarbon {
			apply(&cc)
		}
		b.WriteString("\n[carbon]\n")
		seen := map[string]bool{}
		for _, k := range m.a.carbonKeys {
			if seen[k] {
				continue
			}
			seen[k] = true
			f, ok := fieldByTag(reflect.ValueOf(cc), k)
			if !ok {
				return "", fmt.Errorf("no [carbon] key %q", k)
			}
			v := tomlScalar(f)
			if s, ok := v.(string); ok && (k == "whitelist" || k == "blacklist") {
				v = abs(s)
			}
			line, err := tomlLine(k, v)
			if err != nil {
				return "", err
			}
			b.WriteString(line + "\n")
		}
	}
	if len(m.a.statsdTable) > 0 {
		var sb bytes.Buffer
		if err := toml.NewEncoder(&sb).Encode(map[string]any{"statsd": m.a.statsdTable}); err != nil {
			return "", fmt.Errorf("encoding [statsd]: %w", err)
		}
		b.WriteString("\n# from " + m.cfg.StatsdConfig + "\n")
		b.WriteString(sb.String())
	}
	return b.String(), nil
}

// report is what migrate prints: every key of every file mapped, ignored
// or unsupported, the htpasswd users, the check of the written config and
// the commands to run next.
func (m *migration) report(check error) string {
	var mapped, ignored []string
	for _, n := range m.a.notes {
		line := fmt.Sprintf("  %s: %s = %q", n.Where, n.Key, n.Value)
		if n.Effect == "honoured" {
			mapped = append(mapped, line+" -> "+n.Detail)
		} else {
			ignored = append(ignored, line+": "+n.Detail)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "plumbago migrate: wrote %s\n", abs(m.opt.Out))
	section := func(title string, lines []string) {
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(lines))
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	section("mapped", mapped)
	section("ignored (no effect in Plumbago)", ignored)
	var unsup []string
	for _, e := range m.a.errs {
		unsup = append(unsup, "  "+e)
	}
	section("unsupported (left out of the config)", unsup)
	if m.users != nil {
		schemes := m.users.Schemes()
		names := make([]string, 0, len(schemes))
		for s := range schemes {
			names = append(names, s)
		}
		sort.Strings(names)
		var parts []string
		for _, s := range names {
			parts = append(parts, fmt.Sprintf("%s %d", s, schemes[s]))
		}
		fmt.Fprintf(&b, "\nhtpasswd %s: %d users (%s) -> http-auth-file, read as nginx reads it\n", m.cfg.HTTPAuthFile, m.users.Len(), strings.Join(parts, ", "))
		for _, w := range m.users.Warnings() {
			fmt.Fprintf(&b, "  warning: %s\n", w)
		}
	}
	if check != nil {
		fmt.Fprintf(&b, "\ncheck-config on the written config FAILED: %v\n", check)
	} else {
		fmt.Fprintf(&b, "\ncheck-config on the written config: ok\n")
	}
	out := abs(m.opt.Out)
	b.WriteString("\nnext:\n")
	w := m.cfg.WhisperDir
	switch {
	case m.cfg.Backend == "whisper":
		fmt.Fprintf(&b, "  serve the whisper tree in place (stop carbon-cache first; one writer per tree):\n    plumbago serve --config %s\n", out)
		fmt.Fprintf(&b, "  or import it into pebble instead:\n    plumbago import-whisper --from %s --data-dir %s && plumbago serve --config %s --backend pebble\n", w, abs(m.cfg.DataDir), out)
	case w != "":
		fmt.Fprintf(&b, "  import the whisper tree into pebble (stop carbon-cache first), then serve:\n    plumbago import-whisper --from %s --data-dir %s\n    plumbago serve --config %s\n", w, abs(m.cfg.DataDir), out)
	default:
		fmt.Fprintf(&b, "  serve:\n    plumbago serve --config %s\n", out)
	}
	return b.String()
}
