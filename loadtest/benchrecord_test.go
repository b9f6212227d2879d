package loadtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchRecordArgs checks scripts/bench-record.sh's argument parsing and
// its plan of steps (--dry-run runs nothing): the record script itself is
// too long for make test.
func TestBenchRecordArgs(t *testing.T) {
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{"../scripts/bench-record.sh"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(nil, "--quick", "--dry-run", "--only", "ingest,statsd", "--skip", "carbon-cache,plumbago-whisper,collectd")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := `bench-record: mode quick, 11 steps, about 4 minutes on a quiet box
  1/11 ingest W1 victoriametrics
  2/11 ingest W1 plumbago-pebble
  3/11 ingest 1M victoriametrics
  4/11 ingest 1M plumbago-pebble
  5/11 statsd 1 etsy from-20000
  6/11 statsd 1 plumbago from-200000
  7/11 statsd-floor 1
  8/11 statsd 20 etsy from-100000
  9/11 statsd 20 plumbago from-2000000
  10/11 statsd-floor 20
  11/11 report
`
	if out != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", out, want)
	}
	// The whole record: every comparison (each statsd ladder of Plumbago's
	// followed by the kernel's floor at its rates), then the graph and
	// start-up steps, about 42 minutes by the script's own estimates.
	out, err = run(nil, "--dry-run")
	if err != nil || !strings.HasPrefix(out, "bench-record: mode full, 19 steps, about 42 minutes") ||
		!strings.Contains(out, "  8/19 query vs-victoriametrics\n") || !strings.Contains(out, "  12/19 statsd-floor 1\n") ||
		!strings.Contains(out, "  16/19 statsd-floor 20\n") || !strings.Contains(out, "  17/19 graph vs-graphite-web\n") ||
		!strings.Contains(out, "  18/19 startup 2M-series\n") {
		t.Fatalf("full plan: %v\n%s", err, out)
	}
	out, err = run(nil, "--dry-run", "--carbon-1m", "--only", "ingest")
	if err != nil || !strings.HasPrefix(out, "bench-record: mode full, 8 steps") || !strings.Contains(out, "  5/8 ingest 1M carbon-cache\n") {
		t.Fatalf("--carbon-1m: %v\n%s", err, out)
	}
	// A fixed ladder from the environment replaces the search; " " skips the server.
	out, err = run([]string{"RATES_1_etsy=5000 10000", "RATES_20_etsy= "}, "--dry-run", "--only", "statsd", "--skip", "collectd,plumbago-statsd")
	if err != nil || !strings.Contains(out, "  1/2 statsd 1 etsy 5000,10000\n  2/2 report\n") {
		t.Fatalf("RATES_*: %v\n%s", err, out)
	}
	out, err = run(nil, "--dry-run", "--only", "graph,startup")
	if err != nil || !strings.Contains(out, "  1/3 graph vs-graphite-web\n  2/3 startup 2M-series\n  3/3 report\n") {
		t.Fatalf("--only graph,startup: %v\n%s", err, out)
	}
	// --dry-run first: a bad argument must fail before anything runs.
	for _, bad := range [][]string{{"--only", "nosuch"}, {"--skip", "nosuch"}, {"--bogus"}, {"--out"}, {"--budget", "x"}} {
		if out, err := run(nil, append([]string{"--dry-run"}, bad...)...); err == nil {
			t.Errorf("%q accepted:\n%s", bad, out)
		}
	}
}

const docsRecord = "# Benchmark record\n\n" +
	"Written by `scripts/bench-record.sh` (full mode). Machine and versions:\n\n" +
	"- date: 2026-12-07T15:00:00Z\n- mode: full\n- plumbago: abc1234\n\n" +
	"## Summary\n\n" +
	"| comparison | Plumbago | peer | Plumbago ÷ peer | load average |\n|---|---|---|---|---|\n" +
	"| W1-new ingest, end to end: pebble vs VictoriaMetrics | 2 M/s | 1 M/s | **2.00×** | 1.0 → 1.1 |\n" +
	"| statsd, 1 per datagram: highest rate with < 1% loss, Plumbago vs etsy | 400 k/s | 20 k/s | **20.00×** | see the statsd table |\n\n" +
	"## Against the targets\n\n" +
	"| target (where it is set) | this run | |\n|---|---|---|\n" +
	"| statsd server CPU per metric ≤ 1.5 µs at 1 per datagram, flushes included (issue 18 item 2) | 1.0 µs | **met** |\n\n" +
	"## Carbon ingest: W1-new\n\n![W1-new: committed points/s over time](W1-new.png)\n\n" +
	"## statsd\n\n| server | loss |\n|---|---|\n| etsy | 0.5% |\n\n" +
	"## Commands\n\n```\n# W1-new-victoriametrics (load 1.0)\nplumbago loadtest --scenario W1\n```\n"

// TestBenchRecordDocs runs the docs step (bench-record-report.sh --docs) on
// real files: the record replaces exactly what lies between the markers of
// docs/benchmarks.md and docs/bench-statsd.md, the rest of each file is
// untouched, the plots are copied and the record's old plots removed; a quick
// run, or a file without its markers, is refused and nothing is written.
func TestBenchRecordDocs(t *testing.T) {
	repo, res := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	bench := filepath.Join(repo, "docs", "benchmarks.md")
	statsd := filepath.Join(repo, "docs", "bench-statsd.md")
	const begin = "<!-- bench-record:begin (written by scripts/bench-record-report.sh --docs; do not edit by hand) -->\n"
	const end = "<!-- bench-record:end -->\n"
	write(bench, "# Benchmarks\n\nHow to reproduce.\n\n## The record\n\n"+begin+"### The record of 2026-12-06\n\nold figures\n"+end+"\n## Against the targets\n\ntext after\n")
	write(statsd, "# statsd benchmarks\n\nintro\n\n"+begin+"## Against etsy statsd and collectd\n\nold\n"+end+"\n## Go benchmarks\n\nkept\n")
	write(filepath.Join(repo, "docs", "plots", "record-1M-new.png"), "old plot")
	write(filepath.Join(repo, "docs", "plots", "soak-pebble.png"), "other plot")
	write(filepath.Join(res, "record.md"), docsRecord)
	write(filepath.Join(res, "W1-new.png"), "new plot")
	docs := func(args ...string) (string, error) {
		out, err := exec.Command("bash", append([]string{"../scripts/bench-record-report.sh", "--docs"}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := docs(res, repo); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	wantBench := "# Benchmarks\n\nHow to reproduce.\n\n## The record\n\n" + begin +
		"### The record of 2026-12-07T15:00:00Z (full run, Plumbago at abc1234)\n\n" +
		"Written by `scripts/bench-record.sh` (full mode). Machine and versions:\n\n" +
		"- date: 2026-12-07T15:00:00Z\n- mode: full\n- plumbago: abc1234\n\n" +
		"#### Summary\n\n" +
		"| comparison | Plumbago | peer | Plumbago ÷ peer | load average |\n|---|---|---|---|---|\n" +
		"| W1-new ingest, end to end: pebble vs VictoriaMetrics | 2 M/s | 1 M/s | **2.00×** | 1.0 → 1.1 |\n" +
		"| statsd, 1 per datagram: highest rate with < 1% loss, Plumbago vs etsy | 400 k/s | 20 k/s | **20.00×** | see the statsd table |\n\n" +
		"#### Against the targets\n\n" +
		"| target (where it is set) | this run | |\n|---|---|---|\n" +
		"| statsd server CPU per metric ≤ 1.5 µs at 1 per datagram, flushes included (issue 18 item 2) | 1.0 µs | **met** |\n\n" +
		"#### Carbon ingest: W1-new\n\n![W1-new: committed points/s over time](plots/record-W1-new.png)\n\n" +
		"#### statsd\n\n| server | loss |\n|---|---|\n| etsy | 0.5% |\n\n" +
		"#### Commands\n\n```\n# W1-new-victoriametrics (load 1.0)\nplumbago loadtest --scenario W1\n```\n" +
		end + "\n## Against the targets\n\ntext after\n"
	if got := read(bench); got != wantBench {
		t.Errorf("benchmarks.md:\n%s\nwant:\n%s", got, wantBench)
	}
	wantStatsd := "# statsd benchmarks\n\nintro\n\n" + begin +
		"## Against etsy statsd and collectd\n\n" +
		"From the record of 2026-12-07T15:00:00Z (Plumbago at abc1234; docs/benchmarks.md, \"The record\", has the machine,\n" +
		"the versions, the settings held equal on every side and the commands).\n\n" +
		"| comparison | Plumbago | peer | Plumbago ÷ peer | load average |\n|---|---|---|---|---|\n" +
		"| statsd, 1 per datagram: highest rate with < 1% loss, Plumbago vs etsy | 400 k/s | 20 k/s | **20.00×** | see the statsd table |\n\n" +
		"### Every run\n\n| server | loss |\n|---|---|\n| etsy | 0.5% |\n\n" +
		end + "\n## Go benchmarks\n\nkept\n"
	if got := read(statsd); got != wantStatsd {
		t.Errorf("bench-statsd.md:\n%s\nwant:\n%s", got, wantStatsd)
	}
	if got := read(filepath.Join(repo, "docs", "plots", "record-W1-new.png")); got != "new plot" {
		t.Errorf("record-W1-new.png: %q", got)
	}
	if _, err := os.Stat(filepath.Join(repo, "docs", "plots", "record-1M-new.png")); !os.IsNotExist(err) {
		t.Errorf("the old record plot is still there: %v", err)
	}
	if got := read(filepath.Join(repo, "docs", "plots", "soak-pebble.png")); got != "other plot" {
		t.Errorf("soak-pebble.png: %q", got)
	}

	// A second run over its own output changes nothing.
	if out, err := docs(res, repo); err != nil || read(bench) != wantBench || read(statsd) != wantStatsd {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	// A quick run is refused unless asked for; a file without markers is refused; nothing written.
	write(filepath.Join(res, "record.md"), strings.Replace(docsRecord, "- mode: full", "- mode: quick", 1))
	if out, err := docs(res, repo); err == nil || !strings.Contains(out, "--quick run") || read(bench) != wantBench {
		t.Errorf("quick run accepted: %v\n%s", err, out)
	}
	if out, err := docs("--allow-quick", res, repo); err != nil || !strings.Contains(read(bench), "(quick run, Plumbago at abc1234)") {
		t.Errorf("--allow-quick: %v\n%s", err, out)
	}
	write(filepath.Join(res, "record.md"), docsRecord)
	write(statsd, "# statsd benchmarks\n\nno markers\n")
	before := read(bench)
	if out, err := docs(res, repo); err == nil || !strings.Contains(out, "bench-statsd.md needs exactly one") || read(bench) != before {
		t.Errorf("missing markers accepted: %v\n%s", err, out)
	}
}
