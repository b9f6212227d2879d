package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/plumbago/plumbago/ingest/carbonconf"
	"github.com/plumbago/plumbago/ingest/statsd"
	"github.com/plumbago/plumbago/ingest/statsdconf"
	"github.com/plumbago/plumbago/query/graphiteapiconf"
)

// classicNote says what Plumbago does with one key of a classic file
// (carbon.conf, statsd's config.js, graphite-api.yaml).
type classicNote struct {
	Where  string // file:line
	Key    string
	Value  string
	Effect string // "honoured" or "no effect"
	Detail string // the Plumbago setting it became, or why it has no effect
}

func (n classicNote) String() string {
	return fmt.Sprintf("%s: %s = %q: %s: %s", n.Where, n.Key, n.Value, n.Effect, n.Detail)
}

// classic applies the classic files named by --carbon-config,
// --statsd-config and --graphite-api-config to c. A setting the operator
// gave by flag or TOML key wins over the file (and is noted so). A value
// Plumbago cannot honour and whose loss would change behaviour silently
// is refused, with file:line.
type classic struct {
	c        *Config
	explicit map[string]bool // flags and top-level TOML keys the operator set
	fs       *flag.FlagSet   // bound to c
	notes    []classicNote
	errs     []string
	setBy    map[string]classicNote // flag -> the classic key that set it
	// confDir, when set, is where carbon's other files are read from
	// whatever carbon.conf's CONF_DIR says (migrate reads a copied tree).
	confDir string
	// carbonKeys are the [carbon] table keys the files set, in order;
	// statsdTable is the [statsd] table config.js became (migrate writes both).
	carbonKeys  []string
	statsdTable map[string]any
}

func (a *classic) note(where, key, value, effect, detail string) {
	a.notes = append(a.notes, classicNote{where, key, value, effect, detail})
}

func (a *classic) refuse(where, key, value, why string) {
	a.errs = append(a.errs, fmt.Sprintf("%s: %s = %q: %s", where, key, value, why))
}

// set gives flag the value from a classic key unless the operator set it.
func (a *classic) set(flagName, value, where, key, raw string) {
	if a.explicit[flagName] {
		f := a.fs.Lookup(flagName)
		a.note(where, key, raw, "no effect", fmt.Sprintf("--%s %q given explicitly wins", flagName, f.Value.String()))
		return
	}
	if prev, ok := a.setBy[flagName]; ok && !sameSetting(flagName, a.fs.Lookup(flagName).Value.String(), value) {
		a.refuse(where, key, raw, fmt.Sprintf("disagrees with %s: %s (both set --%s)", prev.Where, prev.Key, flagName))
		return
	}
	if err := a.fs.Set(flagName, value); err != nil {
		a.refuse(where, key, raw, err.Error())
		return
	}
	a.setBy[flagName] = classicNote{Where: where, Key: key}
	a.note(where, key, raw, "honoured", fmt.Sprintf("--%s %s", flagName, value))
}

// sameSetting reports whether two files give a flag the same value (a
// directory with or without its trailing slash is the same).
func sameSetting(flagName, a, b string) bool {
	if a == b {
		return true
	}
	if flagName == "whisper-dir" && a != "" && b != "" {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return false
}

func applyClassic(c *Config, explicit map[string]bool) ([]classicNote, error) {
	a := newClassic(c, explicit)
	if err := a.read(); err != nil {
		return nil, err
	}
	if len(a.errs) > 0 {
		return a.notes, fmt.Errorf("settings Plumbago cannot honour (remove them or change them to what Plumbago does):\n  %s", strings.Join(a.errs, "\n  "))
	}
	return a.notes, nil
}

func newClassic(c *Config, explicit map[string]bool) *classic {
	fs, _ := flagSet("classic", c)
	return &classic{c: c, explicit: explicit, fs: fs, setBy: map[string]classicNote{}}
}

// read applies the files c names. It fails on a file it cannot read; the
// settings it cannot honour are collected in a.errs.
func (a *classic) read() error {
	if a.c.CarbonConfig != "" {
		if err := a.carbon(a.c.CarbonConfig); err != nil {
			return err
		}
	}
	if a.c.StatsdConfig != "" {
		if err := a.statsdJS(a.c.StatsdConfig); err != nil {
			return err
		}
	}
	if a.c.GraphiteAPIConfig != "" {
		if err := a.graphiteAPI(a.c.GraphiteAPIConfig); err != nil {
			return err
		}
	}
	return nil
}

// ---- carbon.conf ----

// carbonIgnored are carbon.conf keys with no effect here, and why.
var carbonIgnored = map[string]string{
	"STORAGE_DIR":                  "Plumbago keeps its own state under --data-dir; LOCAL_DATA_DIR (the whisper tree) is honoured",
	"LOG_DIR":                      "Plumbago logs to stderr (journald, docker logs)",
	"PID_DIR":                      "no pid file; systemd or docker track the process",
	"USER":                         "the systemd unit or container sets the user",
	"ENABLE_LOGROTATION":           "Plumbago logs to stderr",
	"LOG_UPDATES":                  "per-update logs are not written; /metrics counts updates",
	"LOG_CREATES":                  "per-create logs are not written; /metrics counts series",
	"LOG_CACHE_HITS":               "carbonlink hits are not logged",
	"LOG_CACHE_QUEUE_SORTS":        "there is no cache queue sort",
	"LOG_LISTENER_CONNECTIONS":     "connections are counted in /metrics, not logged",
	"LOG_AGGREGATOR_MISSES":        "misses are not logged",
	"CACHE_WRITE_STRATEGY":         "the write buffer writes every series each flush interval (no queue ordering to choose)",
	"WHISPER_AUTOFLUSH":            "durability is the write-ahead log synced every --sync-interval",
	"WHISPER_FALLOCATE_CREATE":     "whisper files are written in full at creation",
	"WHISPER_SPARSE_CREATE":        "whisper files are written in full at creation",
	"WHISPER_LOCK_WRITES":          "one process owns the tree; writes are serialised per file",
	"WHISPER_FADVISE_RANDOM":       "left to the kernel",
	"USE_FLOW_CONTROL":             "Plumbago always applies flow control: a full write buffer pauses TCP reads, never drops",
	"MIN_TIMESTAMP_RESOLUTION":     "points land on the schema's step as whisper does",
	"USE_INSECURE_UNPICKLER":       "only the safe unpickler exists (carbon's default)",
	"CACHE_SIZE_LOW_WATERMARK":     "the write buffer resumes reads as soon as it has room",
	"MAX_RECEIVER_CONNECTIONS":     "connection limits are Plumbago's own",
	"ENABLE_MANHOLE":               "no manhole",
	"MANHOLE_INTERFACE":            "no manhole",
	"MANHOLE_PORT":                 "no manhole",
	"MANHOLE_USER":                 "no manhole",
	"MANHOLE_PUBLIC_KEY":           "no manhole",
	"ENABLE_AMQP":                  "no AMQP receiver",
	"BIND_PATTERNS":                "no AMQP receiver",
	"CARBON_METRIC_PREFIX_SERVER":  "self-metrics use --[carbon] metric-prefix",
	"ENABLE_TAGS":                  "tags are always on (carbon's default)",
	"TAG_UPDATE_INTERVAL":          "tags are indexed as series are created",
	"TAG_HASH_FILENAMES":           "tagged whisper files use carbon's default hashed layout",
	"TAG_BATCH_SIZE":               "tags are indexed in process",
	"TAG_QUEUE_SIZE":               "tags are indexed in process",
	"TAG_RELAY_NORMALIZED":         "tags are normalised as carbon does",
	"GRAPHITE_URL":                 "tags are indexed in process, not posted to graphite-web",
	"LOG_LISTENER_CONN_SUCCESS":    "connections are counted in /metrics, not logged",
	"MIN_TIMESTAMP_LAG":            "points are written as they arrive; the write buffer batches them per series",
	"CERES_MAX_SLICE_GAP":          "no ceres database",
	"CERES_NODE_CACHING_BEHAVIOR":  "no ceres database",
	"CERES_SLICE_CACHING_BEHAVIOR": "no ceres database",
	"CERES_LOCK_WRITES":            "no ceres database",
	"AMQP_HOST":                    "no AMQP receiver",
	"AMQP_PORT":                    "no AMQP receiver",
	"AMQP_VHOST":                   "no AMQP receiver",
	"AMQP_USER":                    "no AMQP receiver",
	"AMQP_PASSWORD":                "no AMQP receiver",
	"AMQP_EXCHANGE":                "no AMQP receiver",
	"AMQP_METRIC_NAME_IN_BODY":     "no AMQP receiver",
	"AMQP_VERBOSE":                 "no AMQP receiver",
	"AMQP_SPEC":                    "no AMQP receiver",
	"MANHOLE_HOST_KEY_DIR":         "no manhole",
	"TCP_KEEPALIVE":                "ingest connections use TCP keep-alive with a 1-minute period, and --ingest-idle-timeout closes silent ones",
	"TCP_KEEPIDLE":                 "ingest connections use TCP keep-alive with a 1-minute period, and --ingest-idle-timeout closes silent ones",
	"TCP_KEEPINTVL":                "ingest connections use TCP keep-alive with a 1-minute period, and --ingest-idle-timeout closes silent ones",
	"TCP_KEEPCNT":                  "ingest connections use TCP keep-alive with a 1-minute period, and --ingest-idle-timeout closes silent ones",
	"CACHE_METRIC_NAMES_MAX":       "names are indexed in memory, all of them",
	"CACHE_METRIC_NAMES_TTL":       "names are indexed in memory, all of them",
	"WRITE_BACK_FREQUENCY":         "the write buffer flushes every --flush-interval",
	"RAVEN_DSN":                    "errors are logged, not sent to Sentry",
	"RELAY_RULES":                  "carbon-relay's rules: put carbon-c-relay in front (docs/scale-out.md)",
	"DATABASE":                     "",
	"LOCAL_DATA_DIR":               "",
	"CONF_DIR":                     "",
	"USE_WHITELIST":                "",
	"AGGREGATION_RULES":            "",
	"REWRITE_RULES":                "",
	"METRIC_CLIENT_IDLE_TIMEOUT":   "",
}

// hostPort joins a carbon interface and port as an address.
func hostPort(iface, port string) string {
	if iface == "0.0.0.0" || iface == "" {
		iface = ""
	}
	return net.JoinHostPort(iface, port)
}

func (a *classic) carbon(path string) error {
	f, err := carbonconf.Load(path)
	if err != nil {
		return fmt.Errorf("--carbon-config: %w", err)
	}
	settings := f.Program("cache", a.c.CarbonInstance)
	if len(settings) == 0 {
		return fmt.Errorf("--carbon-config %s: no [cache] section", path)
	}
	if a.c.CarbonInstance != "" {
		if _, ok := f.Section("cache:" + a.c.CarbonInstance); !ok {
			return fmt.Errorf("--carbon-instance %q: %s has no [cache:%s] section", a.c.CarbonInstance, path, a.c.CarbonInstance)
		}
	}
	cs := &carbonSettings{path: path, byKey: map[string]carbonconf.Setting{}, done: map[string]bool{}}
	for _, s := range settings {
		cs.byKey[s.Key] = s
	}
	a.carbonListeners(cs)
	a.carbonStorage(cs)
	confDir := a.carbonConfDir(cs)
	a.carbonRuleFiles(cs, confDir)
	useLists := a.carbonUseLists(cs)
	if s, ok := cs.get("METRIC_CLIENT_IDLE_TIMEOUT"); ok {
		cs.done[s.Key] = true
		n, err := carbonconf.Number(s)
		if err != nil || n <= 0 || math.IsInf(n, 0) || n > 1e9 {
			a.refuse(s.Where(), s.Key, s.Value, "want seconds")
		} else {
			a.set("ingest-idle-timeout", (time.Duration(n * float64(time.Second))).String(), s.Where(), s.Key, s.Value)
		}
	}
	a.carbonListFiles(cs, confDir, useLists)
	a.carbonTables(cs)
	a.carbonLimits(cs)
	_, hasAggregator := f.Section("aggregator")
	a.carbonUnread(cs, settings, hasAggregator)
	a.carbonAggregator(f)
	for _, s := range f.Program("relay", "") {
		if s.Section == "DEFAULT" {
			continue
		}
		a.note(s.Where(), s.Key, s.Value, "no effect", "carbon-relay's settings: Plumbago stores what it receives; to shard across nodes put carbon-c-relay in front (docs/scale-out.md)")
	}
	for _, sec := range f.Sections {
		if sec.Name == "cache" || sec.Name == "relay" || sec.Name == "aggregator" || sec.Name == "cache:"+a.c.CarbonInstance {
			continue
		}
		a.note(fmt.Sprintf("%s:%d", cs.path, sec.Line), "["+sec.Name+"]", "", "no effect", "another program's or instance's section (--carbon-instance picks a [cache:NAME])")
	}
	return nil
}

// carbonSettings are the [cache] settings of one carbon.conf by key;
// done marks those a step has read, so that the rest are reported as
// having no effect.
type carbonSettings struct {
	path  string
	byKey map[string]carbonconf.Setting
	done  map[string]bool
}

func (cs *carbonSettings) get(k string) (carbonconf.Setting, bool) {
	s, ok := cs.byKey[k]
	return s, ok
}

// carbonListeners maps the line, pickle, carbonlink and UDP receivers'
// interfaces and ports to the listen addresses.
func (a *classic) carbonListeners(cs *carbonSettings) {
	var err error
	addr := func(flagName, ifaceKey, portKey, defIface string) {
		p, ok := cs.get(portKey)
		if !ok {
			return
		}
		iface := defIface
		if i, ok := cs.get(ifaceKey); ok {
			iface = i.Value
			cs.done[ifaceKey] = true
			a.note(i.Where(), ifaceKey, i.Value, "honoured", "with "+portKey)
		}
		cs.done[portKey] = true
		a.set(flagName, hostPort(iface, p.Value), p.Where(), portKey, p.Value)
	}
	addr("carbon-addr", "LINE_RECEIVER_INTERFACE", "LINE_RECEIVER_PORT", "0.0.0.0")
	addr("pickle-addr", "PICKLE_RECEIVER_INTERFACE", "PICKLE_RECEIVER_PORT", "0.0.0.0")
	addr("carbonlink-addr", "CACHE_QUERY_INTERFACE", "CACHE_QUERY_PORT", "0.0.0.0")
	// UDP is off in carbon unless ENABLE_UDP_LISTENER says otherwise.
	udpOn := false
	if s, ok := cs.get("ENABLE_UDP_LISTENER"); ok {
		cs.done[s.Key] = true
		if udpOn, err = carbonconf.Bool(s); err != nil {
			a.errs = append(a.errs, err.Error())
		}
	}
	if udpOn {
		iface, port := "0.0.0.0", "2003"
		if s, ok := cs.get("UDP_RECEIVER_INTERFACE"); ok {
			iface = s.Value
		}
		if s, ok := cs.get("UDP_RECEIVER_PORT"); ok {
			port = s.Value
		}
		where := cs.path
		if s, ok := cs.get("ENABLE_UDP_LISTENER"); ok {
			where = s.Where()
		}
		a.set("carbon-udp-addr", hostPort(iface, port), where, "ENABLE_UDP_LISTENER", "True")
	} else {
		where := cs.path
		if s, ok := cs.get("ENABLE_UDP_LISTENER"); ok {
			where = s.Where()
		}
		a.set("carbon-udp-addr", "off", where, "ENABLE_UDP_LISTENER", "False")
	}
	for _, k := range []string{"UDP_RECEIVER_INTERFACE", "UDP_RECEIVER_PORT"} {
		if s, ok := cs.get(k); ok {
			cs.done[k] = true
			a.note(s.Where(), k, s.Value, "honoured", "with ENABLE_UDP_LISTENER")
		}
	}
}

// carbonStorage maps DATABASE and LOCAL_DATA_DIR to the backend and the
// whisper tree.
func (a *classic) carbonStorage(cs *carbonSettings) {
	if s, ok := cs.get("DATABASE"); ok {
		cs.done[s.Key] = true
		if s.Value != "whisper" {
			a.refuse(s.Where(), s.Key, s.Value, "only whisper (or Plumbago's pebble) is supported")
		} else {
			a.set("backend", "whisper", s.Where(), s.Key, s.Value)
		}
	}
	if s, ok := cs.get("LOCAL_DATA_DIR"); ok {
		cs.done[s.Key] = true
		a.set("whisper-dir", s.Value, s.Where(), s.Key, s.Value)
	}
}

// carbonConfDir is the directory carbon's other files are read from:
// migrate's copied tree, else CONF_DIR, else carbon.conf's own.
func (a *classic) carbonConfDir(cs *carbonSettings) string {
	// CONF_DIR holds the files carbon reads by name.
	confDir := filepath.Dir(cs.path)
	if s, ok := cs.get("CONF_DIR"); ok {
		cs.done[s.Key] = true
		if a.confDir == "" {
			confDir = s.Value
			a.note(s.Where(), s.Key, s.Value, "honoured", "carbon's other files are read from it when present")
		} else {
			a.note(s.Where(), s.Key, s.Value, "no effect", "carbon's other files are read from "+a.confDir+", the directory given to migrate")
		}
	}
	if a.confDir != "" {
		confDir = a.confDir
	}
	return confDir
}

// carbonRuleFiles points the schemas, aggregation, aggregation-rules and
// rewrite-rules files at those present in confDir.
func (a *classic) carbonRuleFiles(cs *carbonSettings, confDir string) {
	// AGGREGATION_RULES and REWRITE_RULES name the files, relative to
	// CONF_DIR (carbon's defaults below).
	ruleFile := func(key, def string) string {
		s, ok := cs.get(key)
		if !ok {
			return def
		}
		cs.done[key] = true
		a.note(s.Where(), s.Key, s.Value, "honoured", "the file is read from CONF_DIR when present")
		return s.Value
	}
	for _, cf := range []struct{ flag, file string }{
		{"schemas", "storage-schemas.conf"}, {"aggregation", "storage-aggregation.conf"},
		{"aggregation-rules", ruleFile("AGGREGATION_RULES", "aggregation-rules.conf")},
		{"rewrite-rules", ruleFile("REWRITE_RULES", "rewrite-rules.conf")},
	} {
		p := cf.file
		if !filepath.IsAbs(p) {
			p = filepath.Join(confDir, cf.file)
		}
		if _, err := os.Stat(p); err == nil {
			a.set(cf.flag, p, cs.path, "CONF_DIR/"+filepath.Base(cf.file), p)
		}
	}
}

// carbonUseLists reports USE_WHITELIST (false when absent).
func (a *classic) carbonUseLists(cs *carbonSettings) bool {
	var err error
	// whitelist.conf and blacklist.conf are read only with USE_WHITELIST.
	useLists := false
	if s, ok := cs.get("USE_WHITELIST"); ok {
		cs.done[s.Key] = true
		if useLists, err = carbonconf.Bool(s); err != nil {
			a.errs = append(a.errs, err.Error())
		} else if useLists {
			a.note(s.Where(), s.Key, s.Value, "honoured", "CONF_DIR's whitelist.conf and blacklist.conf filter names")
		} else {
			a.note(s.Where(), s.Key, s.Value, "honoured", "no white/blacklist (carbon's default)")
		}
	}
	return useLists
}

// carbonListFiles applies confDir's whitelist.conf and blacklist.conf
// when useLists, and notes them as having no effect otherwise.
func (a *classic) carbonListFiles(cs *carbonSettings, confDir string, useLists bool) {
	for _, lf := range []struct {
		file string
		set  func(*carbonConfig, string)
	}{
		{"whitelist.conf", func(cc *carbonConfig, p string) { cc.Whitelist = p }},
		{"blacklist.conf", func(cc *carbonConfig, p string) { cc.Blacklist = p }},
	} {
		p := filepath.Join(confDir, lf.file)
		if _, err := os.Stat(p); err == nil && !useLists {
			a.note(cs.path, "CONF_DIR/"+lf.file, p, "no effect", "carbon reads it only with USE_WHITELIST = True")
		} else if err == nil {
			set := lf.set
			a.c.classicCarbon = append(a.c.classicCarbon, func(cc *carbonConfig) { set(cc, p) })
			a.carbonKeys = append(a.carbonKeys, strings.TrimSuffix(lf.file, ".conf"))
			a.note(cs.path, "CONF_DIR/"+lf.file, p, "honoured", "[carbon] "+strings.TrimSuffix(lf.file, ".conf"))
		}
	}
}

// carbonTables maps the settings that become [carbon] table keys.
func (a *classic) carbonTables(cs *carbonSettings) {
	carbonTable := func(key, tomlKey string, apply func(*carbonConfig, carbonconf.Setting) error) {
		s, ok := cs.get(key)
		if !ok {
			return
		}
		cs.done[key] = true
		if err := apply(&carbonConfig{}, s); err != nil {
			a.errs = append(a.errs, err.Error())
			return
		}
		a.c.classicCarbon = append(a.c.classicCarbon, func(cc *carbonConfig) { _ = apply(cc, s) })
		a.carbonKeys = append(a.carbonKeys, tomlKey)
		a.note(s.Where(), key, s.Value, "honoured", "[carbon] "+tomlKey)
	}
	carbonTable("PICKLE_RECEIVER_MAX_LENGTH", "pickle-max-frame", func(cc *carbonConfig, s carbonconf.Setting) error {
		n, err := carbonconf.Number(s)
		if err != nil || n <= 0 || n > 1<<30 {
			return fmt.Errorf("%s: %s = %q: want a byte count up to 1GiB", s.Where(), s.Key, s.Value)
		}
		cc.PickleMaxFrame = ByteSize(n)
		return nil
	})
	carbonTable("CARBON_METRIC_INTERVAL", "metric-interval", func(cc *carbonConfig, s carbonconf.Setting) error {
		n, err := carbonconf.Number(s)
		if err != nil || n < 0 || math.IsInf(n, 0) {
			return fmt.Errorf("%s: %s = %q: want seconds", s.Where(), s.Key, s.Value)
		}
		cc.MetricInterval = Duration{time.Duration(n * float64(time.Second))}
		return nil
	})
	carbonTable("CARBON_METRIC_PREFIX", "metric-prefix", func(cc *carbonConfig, s carbonconf.Setting) error {
		cc.MetricPrefix = s.Value
		return nil
	})
}

// carbonLimits maps MAX_CACHE_SIZE and carbon's rate limits.
func (a *classic) carbonLimits(cs *carbonSettings) {
	if s, ok := cs.get("MAX_CACHE_SIZE"); ok {
		cs.done[s.Key] = true
		n, err := carbonconf.Number(s)
		switch {
		case err != nil:
			a.errs = append(a.errs, err.Error())
		case math.IsInf(n, 1):
			a.note(s.Where(), s.Key, s.Value, "no effect", "carbon's unbounded cache; Plumbago's write buffer is bounded by --write-buffer (derived from memory) and pauses TCP reads when full")
		default:
			a.set("write-buffer", strconv.FormatInt(int64(n)*bytesPerBufferedPoint, 10), s.Where(), s.Key, s.Value)
		}
	}
	// Carbon's rate limits: the same meaning, on the same token buckets
	// (storage/limits, storage/cache); inf (carbon's default) is no limit.
	for _, k := range []struct{ key, flag string }{
		{"MAX_CREATES_PER_MINUTE", "max-creates-per-minute"},
		{"MAX_UPDATES_PER_SECOND", "max-updates-per-second"},
	} {
		s, ok := cs.get(k.key)
		if !ok {
			continue
		}
		cs.done[k.key] = true
		n, err := carbonconf.Number(s)
		switch {
		case err != nil:
			a.errs = append(a.errs, err.Error())
		case math.IsInf(n, 1):
			a.note(s.Where(), s.Key, s.Value, "honoured", "no limit (--"+k.flag+" 0)")
		case n < 1 || n > math.MaxInt32 || n != math.Trunc(n):
			a.refuse(s.Where(), s.Key, s.Value, "want a whole number from 1, or inf")
		case k.key == "MAX_UPDATES_PER_SECOND" && a.c.Backend != "whisper":
			a.note(s.Where(), s.Key, s.Value, "no effect", "the pebble backend batches writes instead of updating one file per series (--max-updates-per-second applies to --backend whisper)")
		default:
			a.set(k.flag, strconv.Itoa(int(n)), s.Where(), s.Key, s.Value)
		}
	}
	if s, ok := cs.get("MAX_UPDATES_PER_SECOND_ON_SHUTDOWN"); ok {
		cs.done[s.Key] = true
		a.note(s.Where(), s.Key, s.Value, "no effect", "at shutdown everything accepted is written at once, past both rate limits (SIGTERM loses nothing)")
	}
}

// carbonUnread notes every [cache] setting no step read as having no
// effect, with carbon's reason when known.
func (a *classic) carbonUnread(cs *carbonSettings, settings []carbonconf.Setting, hasAggregator bool) {
	for _, s := range settings {
		if cs.done[s.Key] {
			continue
		}
		if s.Section == "DEFAULT" && hasAggregator && (s.Key == "FORWARD_ALL" || s.Key == "MAX_AGGREGATION_INTERVALS") {
			continue // [aggregator] reads it (below)
		}
		why, known := carbonIgnored[s.Key]
		if !known {
			why = "not a carbon 1.1 [cache] setting either"
		}
		a.note(s.Where(), s.Key, s.Value, "no effect", why)
	}
}

// carbonAggregator maps the [aggregator] settings: Plumbago aggregates
// in process, on every receiver.
func (a *classic) carbonAggregator(f *carbonconf.File) {
	// [aggregator]: Plumbago aggregates in process, on every receiver.
	for _, s := range f.Program("aggregator", "") {
		if s.Section == "DEFAULT" && s.Key != "FORWARD_ALL" && s.Key != "MAX_AGGREGATION_INTERVALS" {
			continue // reported with [cache]
		}
		switch s.Key {
		case "FORWARD_ALL":
			v, err := carbonconf.Bool(s)
			if err != nil {
				a.errs = append(a.errs, err.Error())
				continue
			}
			a.c.classicCarbon = append(a.c.classicCarbon, func(cc *carbonConfig) { cc.ForwardAll = v })
			a.carbonKeys = append(a.carbonKeys, "forward-all")
			a.note(s.Where(), s.Key, s.Value, "honoured", fmt.Sprintf("[carbon] forward-all = %v", v))
		case "MAX_AGGREGATION_INTERVALS":
			n, err := carbonconf.Number(s)
			if err != nil || n < 1 || n > 1e6 {
				a.refuse(s.Where(), s.Key, s.Value, "want a count of intervals")
				continue
			}
			a.c.classicCarbon = append(a.c.classicCarbon, func(cc *carbonConfig) { cc.MaxAggregationIntervals = int(n) })
			a.carbonKeys = append(a.carbonKeys, "max-aggregation-intervals")
			a.note(s.Where(), s.Key, s.Value, "honoured", "[carbon] max-aggregation-intervals")
		default:
			a.note(s.Where(), s.Key, s.Value, "no effect", "carbon-aggregator's own receivers and relay: Plumbago applies the aggregation rules to every point it receives and stores the result itself")
		}
	}
}

// ---- statsd config.js ----

// statsdTableKeys are the config.js keys that are [statsd] table keys of
// the same name and meaning.
var statsdTableKeys = map[string]bool{
	"percentThreshold": true, "flush_counts": true, "deleteIdleStats": true, "deleteCounters": true,
	"deleteTimers": true, "deleteGauges": true, "deleteSets": true, "gaugesMaxTTL": true,
	"calculatedTimerMetrics": true, "histogram": true, "keyNameSanitize": true, "prefixStats": true,
	"healthStatus": true,
}

var statsdGraphiteKeys = map[string]bool{
	"legacyNamespace": true, "globalPrefix": true, "prefixCounter": true, "prefixTimer": true,
	"prefixGauge": true, "prefixSet": true, "globalSuffix": true,
}

var statsdIgnored = map[string]string{
	"graphiteHost":          "Plumbago is the Graphite server: statsd's flush is stored here",
	"graphitePort":          "Plumbago is the Graphite server: statsd's flush is stored here",
	"graphitePicklePort":    "Plumbago is the Graphite server: statsd's flush is stored here",
	"graphiteProtocol":      "Plumbago is the Graphite server: statsd's flush is stored here",
	"debug":                 "use --log-level debug",
	"dumpMessages":          "messages are not logged",
	"title":                 "no process title",
	"log":                   "Plumbago logs to stderr",
	"automaticConfigReload": "SIGHUP reloads Plumbago's files",
	"address_ipv6":          "the address given decides the family",
	"console":               "the console backend is not kept",
	"keyFlush":              "top-key logging is not kept; the admin console's counters/timers commands list keys",
	"mgmt_address":          "",
	"mgmt_port":             "",
	"address":               "",
	"port":                  "",
	"server":                "Plumbago opens UDP and TCP on --statsd-addr, whichever of statsd's servers was chosen",
	"servers":               "",
	"flushInterval":         "",
	"backends":              "",
	"graphite":              "",
}

func (a *classic) statsdJS(path string) error {
	f, err := statsdconf.Load(path)
	if err != nil {
		return fmt.Errorf("--statsd-config: %w", err)
	}
	a.statsdListeners(f)
	tbl := a.statsdTableOf(f)
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(tbl); err != nil {
		return fmt.Errorf("--statsd-config %s: %w", path, err)
	}
	base := statsd.DefaultConfig()
	if _, err := toml.Decode(buf.String(), &base); err != nil {
		return fmt.Errorf("--statsd-config %s: %w", path, err)
	}
	a.c.classicStatsd = &base
	a.statsdTable = tbl
	return nil
}

// statsdListeners maps the statsd and management listeners, the flush
// interval, servers and backends.
func (a *classic) statsdListeners(f *statsdconf.File) {
	r := f.Root
	str := func(v any) string { return fmt.Sprint(v) }
	num := func(k string) (float64, bool) {
		switch x := r[k].(type) {
		case int64:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	// Listener: address:port, TCP and UDP as Plumbago opens both.
	if _, ok := r["port"]; ok || r["address"] != nil {
		addr, port := "", "8125"
		if v, ok := r["address"].(string); ok && v != "0.0.0.0" {
			addr = v
		}
		if p, ok := num("port"); ok {
			port = strconv.Itoa(int(p))
		}
		a.set("statsd-addr", net.JoinHostPort(addr, port), f.Where("port"), "address/port", str(r["port"]))
	}
	if _, ok := r["mgmt_port"]; ok || r["mgmt_address"] != nil {
		addr, port := "", "8126"
		if v, ok := r["mgmt_address"].(string); ok && v != "0.0.0.0" {
			addr = v
		}
		if p, ok := num("mgmt_port"); ok {
			port = strconv.Itoa(int(p))
		}
		a.set("statsd-admin-addr", net.JoinHostPort(addr, port), f.Where("mgmt_port"), "mgmt_address/mgmt_port", str(r["mgmt_port"]))
	}
	if ms, ok := num("flushInterval"); ok {
		a.set("statsd-flush-interval", (time.Duration(ms) * time.Millisecond).String(), f.Where("flushInterval"), "flushInterval", str(r["flushInterval"]))
	} else if v, ok := r["flushInterval"]; ok {
		a.refuse(f.Where("flushInterval"), "flushInterval", str(v), "want milliseconds as a number")
	}
	if v, ok := r["servers"]; ok {
		a.refuse(f.Where("servers"), "servers", str(v), "give the statsd listener with port/address (Plumbago opens UDP and TCP on it)")
	}
	if v, ok := r["backends"]; ok {
		list, isList := v.([]any)
		if !isList {
			a.refuse(f.Where("backends"), "backends", str(v), "want a list of backends")
		}
		for _, b := range list {
			switch str(b) {
			case "./backends/graphite":
				a.note(f.Where("backends"), "backends", str(b), "honoured", "the flush is stored by Plumbago")
			case "./backends/console":
				a.note(f.Where("backends"), "backends", str(b), "no effect", "the console backend is not kept")
			default:
				a.refuse(f.Where("backends"), "backends", str(b), "only the graphite backend exists here; its data would silently go nowhere else")
			}
		}
	}
}

// statsdTableOf is the [statsd] table config.js's keys become (the
// keys re-encoded as TOML are decoded as the table is); every other key
// is noted or refused.
func (a *classic) statsdTableOf(f *statsdconf.File) map[string]any {
	r := f.Root
	str := func(v any) string { return fmt.Sprint(v) }
	tbl := map[string]any{}
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := r[k]
		switch {
		case statsdTableKeys[k]:
			tbl[k] = tomlValue(k, v)
			a.note(f.Where(k), k, str(v), "honoured", "[statsd] "+k)
		case k == "graphite":
			g, ok := v.(map[string]any)
			if !ok {
				a.refuse(f.Where(k), k, str(v), "want an object")
				continue
			}
			sub := map[string]any{}
			for gk, gv := range g {
				if statsdGraphiteKeys[gk] {
					sub[gk] = gv
					a.note(f.Where(k+"."+gk), "graphite."+gk, str(gv), "honoured", "[statsd.graphite] "+gk)
				} else {
					a.note(f.Where(k+"."+gk), "graphite."+gk, str(gv), "no effect", "not a graphite backend option statsd 0.10 reads")
				}
			}
			tbl["graphite"] = sub
		case strings.HasPrefix(k, "repeater"):
			a.refuse(f.Where(k), k, str(v), "the repeater backend is not kept: forward with carbon-c-relay instead")
		default:
			why, known := statsdIgnored[k]
			if known && why == "" {
				continue // handled above
			}
			if !known {
				why = "not an option etsy statsd 0.10 or its graphite backend reads"
			}
			a.note(f.Where(k), k, str(v), "no effect", why)
		}
	}
	return tbl
}

// tomlValue makes a config.js value decodable as the [statsd] key's type.
func tomlValue(k string, v any) any {
	if k == "percentThreshold" {
		switch x := v.(type) {
		case []any:
			out := make([]float64, 0, len(x))
			for _, e := range x {
				switch n := e.(type) {
				case int64:
					out = append(out, float64(n))
				case float64:
					out = append(out, n)
				case string:
					f, _ := strconv.ParseFloat(n, 64)
					out = append(out, f)
				}
			}
			return out
		case int64:
			return []float64{float64(x)}
		case float64:
			return []float64{x}
		}
	}
	return v
}

// ---- graphite-api.yaml ----

var graphiteAPIIgnored = map[string]string{
	"search_index":  "the name index is in memory, built from the storage at start",
	"functions":     "every graphite-web function is built in (/functions lists them)",
	"carbon":        "carbonlink is not needed: render reads the write buffer directly",
	"cache":         "the render cache is built in (--render-cache), honouring cacheTimeout and noCache",
	"statsd":        "graphite-api's own instrumentation: Plumbago exposes /metrics",
	"sentry_dsn":    "errors are logged, not sent to Sentry",
	"logging":       "Plumbago logs to stderr (--log-level)",
	"render_errors": "errors are answered as graphite-web does",
	"path":          "set by graphite-api itself",
}

func (a *classic) graphiteAPI(path string) error {
	f, err := graphiteapiconf.Load(path)
	if err != nil {
		return fmt.Errorf("--graphite-api-config: %w", err)
	}
	for _, k := range f.Keys {
		top, _, _ := strings.Cut(k.Path, ".")
		where := fmt.Sprintf("%s:%d", path, k.Line)
		switch top {
		case "time_zone":
			if _, err := time.LoadLocation(k.Value); err != nil {
				a.refuse(where, k.Path, k.Value, "unknown time zone")
				continue
			}
			a.set("time-zone", k.Value, where, k.Path, k.Value)
		case "allowed_origins":
			a.set("http-allowed-origins", strings.Join(f.AllowedOrigins, ","), where, k.Path, k.Value)
		case "whisper":
			if k.Path != "whisper.directories" {
				a.note(where, k.Path, k.Value, "no effect", "not a WhisperFinder option")
				continue
			}
			if len(f.WhisperDirs) != 1 {
				a.refuse(where, k.Path, k.Value, "Plumbago serves one whisper tree (--whisper-dir); merge the trees or run one node per tree behind graphite-web's CLUSTER_SERVERS")
				continue
			}
			a.set("whisper-dir", f.WhisperDirs[0], where, k.Path, k.Value)
		case "finders":
			for _, fd := range f.Finders {
				if fd != "graphite_api.finders.whisper.WhisperFinder" {
					a.refuse(where, k.Path, fd, "only whisper data is served; this finder's series would silently be missing")
				}
			}
			if !a.explicit["backend"] && a.c.CarbonConfig == "" {
				a.set("backend", "whisper", where, k.Path, k.Value)
			} else {
				a.note(where, k.Path, k.Value, "honoured", "whisper tree served by the whisper backend")
			}
		default:
			why, ok := graphiteAPIIgnored[top]
			if !ok {
				why = "not a graphite-api 1.1 setting"
			}
			a.note(where, k.Path, k.Value, "no effect", why)
		}
	}
	return nil
}
