package graphiteapiconf

import (
	"fmt"
	"strings"
	"testing"
)

// documented is graphite-api.yaml as graphite-api's documentation shows
// it (docs/configuration.rst), with every section it describes.
const documented = `search_index: /srv/graphite/index
finders:
  - graphite_api.finders.whisper.WhisperFinder
functions:
  - graphite_api.functions.SeriesFunctions
  - graphite_api.functions.PieFunctions
whisper:
  directories:
    - /srv/graphite/whisper
carbon:
  hosts:
    - 127.0.0.1:7002
  timeout: 1
  retry_delay: 15
  carbon_prefix: carbon
  replication_factor: 1
time_zone: Europe/Berlin
allowed_origins:
  - dashboard.example.com
cache:
  type: redis
  redis_host: localhost
sentry_dsn: https://key:secret@app.getsentry.com/12345
`

func TestDocumented(t *testing.T) {
	f, err := Parse("graphite-api.yaml", []byte(documented))
	if err != nil {
		t.Fatal(err)
	}
	if f.TimeZone != "Europe/Berlin" || fmt.Sprint(f.AllowedOrigins) != "[dashboard.example.com]" ||
		fmt.Sprint(f.WhisperDirs) != "[/srv/graphite/whisper]" || fmt.Sprint(f.CarbonHosts) != "[127.0.0.1:7002]" {
		t.Fatalf("parsed %+v", f)
	}
	var got []string
	for _, k := range f.Keys {
		got = append(got, fmt.Sprintf("%s=%s@%d", k.Path, k.Value, k.Line))
	}
	want := "search_index=/srv/graphite/index@1 finders=[graphite_api.finders.whisper.WhisperFinder]@2 " +
		"functions=[graphite_api.functions.SeriesFunctions, graphite_api.functions.PieFunctions]@4 " +
		"whisper.directories=[/srv/graphite/whisper]@8 carbon.hosts=[127.0.0.1:7002]@11 carbon.timeout=1@13 " +
		"carbon.retry_delay=15@14 carbon.carbon_prefix=carbon@15 carbon.replication_factor=1@16 " +
		"time_zone=Europe/Berlin@17 allowed_origins=[dashboard.example.com]@18 cache.type=redis@21 " +
		"cache.redis_host=localhost@22 sentry_dsn=https://key:secret@app.getsentry.com/12345@23"
	if strings.Join(got, " ") != want {
		t.Fatalf("keys\n got  %s\n want %s", strings.Join(got, " "), want)
	}
	if w := f.Where("carbon.hosts"); w != "graphite-api.yaml:10" {
		t.Fatalf("Where = %s", w)
	}
}

func TestRefused(t *testing.T) {
	for in, want := range map[string]string{
		"allowed_origins: dashboard.example.com\n": "c.yaml:1: allowed_origins: write a list",
		"- a\n- b\n":       "must be a mapping",
		"time_zone: [a]\n": "c.yaml:1: time_zone: want a single value",
		"a: 1\na: 2\n":     "a appears twice",
		"a: [\n":           "c.yaml",
	} {
		_, err := Parse("c.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want %q", in, err, want)
		}
	}
	for _, empty := range []string{"", "# nothing\n", "~\n"} {
		if f, err := Parse("c.yaml", []byte(empty)); err != nil || len(f.Keys) != 0 {
			t.Errorf("Parse(%q) = %v, %v", empty, f, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(documented)
	f.Add("a: &x [1, 2]\nb: *x\nc: {d: {e: *x}}\n")
	f.Add("allowed_origins: ['*']\n")
	f.Fuzz(func(t *testing.T, in string) {
		fl, err := Parse("fuzz.yaml", []byte(in))
		if err != nil {
			return
		}
		if len(fl.Keys) > maxKeys {
			t.Fatalf("%d keys", len(fl.Keys))
		}
		for _, k := range fl.Keys {
			_ = fl.Where(k.Path)
		}
	})
}
