package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage/whisper"
)

// TestResizeMatchesWhisperResize makes a whisper file with Python whisper
// (10s:1h,1m:1d, average, xFilesFactor 0.5; 10 s points over 45 minutes
// with gaps), re-shapes one copy with Debian's whisper-resize to
// 30s:2h,5m:2d, max, xFilesFactor 0.6 and another with `plumbago resize`
// and schemas saying the same, and compares the two files byte for byte
// (every slot of every archive). The dry run first lists the file and
// changes nothing; a second run finds nothing to do.
func TestResizeMatchesWhisperResize(t *testing.T) {
	// Debian's python3-whisper is for /usr/bin/python3 (not a pyenv one).
	py, resize := "/usr/bin/python3", "/usr/bin/whisper-resize"
	testenv.Files(t, "apt python3-whisper", py, resize)
	dir := t.TempDir()
	ours := filepath.Join(dir, "data", "whisper", "res", "a.wsp")
	theirs := filepath.Join(dir, "oracle.wsp")
	if err := os.MkdirAll(filepath.Dir(ours), 0o755); err != nil {
		t.Fatal(err)
	}
	// The data lies well inside every retention, so both tools, whose
	// clocks differ by a few seconds, see the same points.
	now := time.Now().Unix()
	script := `
import sys, whisper
path, now = sys.argv[1], int(sys.argv[2])
whisper.create(path, [(10, 360), (60, 1440)], xFilesFactor=0.5, aggregationMethod='average')
pts = []
for i in range(270):
    if i % 7 == 3 or (100 <= i < 104):
        continue
    pts.append((now - 3000 + 10 * i, 1.5 * i - 40))
whisper.update_many(path, pts, now=now)
`
	if out, err := exec.Command(py, "-c", script, ours, fmt.Sprint(now)).CombinedOutput(); err != nil {
		t.Fatalf("python whisper: %v %s", err, out)
	}
	orig, err := os.ReadFile(ours)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(theirs, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(resize, theirs, "30s:2h", "5m:2d", "--xFilesFactor=0.6", "--aggregationMethod=max", "--nobackup").CombinedOutput(); err != nil {
		t.Fatalf("whisper-resize: %v %s", err, out)
	}
	schemas, aggregation := filepath.Join(dir, "schemas.conf"), filepath.Join(dir, "aggregation.conf")
	if err := os.WriteFile(schemas, []byte("[res]\npattern = ^res\\.\nretentions = 30s:2h,5m:2d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aggregation, []byte("[res]\npattern = ^res\\.\nxFilesFactor = 0.6\naggregationMethod = max\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"resize", "--data-dir", filepath.Join(dir, "data"), "--schemas", schemas, "--aggregation", aggregation}

	var out bytes.Buffer
	if err := run(append(args, "--dry-run"), &out, &out); err != nil {
		t.Fatalf("resize --dry-run: %v\n%s", err, out.String())
	}
	want := "res.a: 10:360,60:1440 average xff=0.5 -> 30:240,300:576 max xff=0.6 (21640 -> 9832 bytes)\n" +
		"1 of 1 series would be re-shaped (dry run): 21640 bytes before, 9832 after\n"
	if out.String() != want {
		t.Fatalf("dry run printed:\n%s\nwant:\n%s", out.String(), want)
	}
	if b, _ := os.ReadFile(ours); !bytes.Equal(b, orig) {
		t.Fatal("the dry run changed the file")
	}

	out.Reset()
	if err := run(args, &out, &out); err != nil {
		t.Fatalf("resize: %v\n%s", err, out.String())
	}
	want = "res.a: 10:360,60:1440 average xff=0.5 -> 30:240,300:576 max xff=0.6 (21640 -> 9832 bytes)\n" +
		"1 of 1 series re-shaped: 21640 bytes before, 9832 after\n"
	if out.String() != want {
		t.Fatalf("resize printed:\n%s\nwant:\n%s", out.String(), want)
	}
	// Value for value: every archive of both files fetched over its whole
	// retention by Python whisper at one time.
	fetchAll := `
import sys, whisper
now = int(sys.argv[1])
info = whisper.info(sys.argv[2])
print(info)
for a in info['archives']:
    print(whisper.fetch(sys.argv[2], now - a['retention'] + a['secondsPerPoint'], now, now=now))
`
	at := fmt.Sprint(time.Now().Unix())
	got, err := exec.Command(py, "-c", fetchAll, at, ours).CombinedOutput()
	if err != nil {
		t.Fatalf("python whisper fetch: %v %s", err, got)
	}
	oracle, err := exec.Command(py, "-c", fetchAll, at, theirs).CombinedOutput()
	if err != nil {
		t.Fatalf("python whisper fetch: %v %s", err, oracle)
	}
	if !bytes.Equal(got, oracle) {
		t.Fatalf("plumbago resize:\n%s\nwhisper-resize:\n%s", got, oracle)
	}
	// Not vacuous: the 5m archive (the last line) holds propagated maxima.
	lines := bytes.Split(bytes.TrimSpace(got), []byte("\n"))
	if n := len(lines[len(lines)-1]) - len(bytes.ReplaceAll(lines[len(lines)-1], []byte("None"), nil)); len(lines) != 3 ||
		bytes.Count(lines[len(lines)-1], []byte(", ")) < 500 || bytes.Count(lines[len(lines)-1], []byte(".")) < 8 || n == 0 {
		t.Fatalf("unexpected fetch output:\n%s", got)
	}

	out.Reset()
	if err := run(args, &out, &out); err != nil {
		t.Fatal(err)
	}
	if want := "0 of 1 series re-shaped: 0 bytes before, 0 after\n"; out.String() != want {
		t.Fatalf("second resize printed %q; want %q", out.String(), want)
	}
}

// TestResizeOnStart starts the real binary with --resize-on-start on a tree
// holding a file of an old shape: it is re-shaped before serving, and its
// points are served from the new archives.
func TestResizeOnStart(t *testing.T) {
	py := "/usr/bin/python3"
	testenv.Files(t, "apt python3-whisper", py)
	bin := buildBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "whisper", "res", "b.wsp")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	ts := now - now%60 - 600
	script := `
import sys, whisper
whisper.create(sys.argv[1], [(10, 360)], xFilesFactor=0.5, aggregationMethod='average')
whisper.update_many(sys.argv[1], [(int(sys.argv[2]), 4.0), (int(sys.argv[2]) + 10, 6.0)])
`
	if out, err := exec.Command(py, "-c", script, path, fmt.Sprint(ts)).CombinedOutput(); err != nil {
		t.Fatalf("python whisper: %v %s", err, out)
	}
	schemas, aggregation := filepath.Join(dir, "schemas.conf"), filepath.Join(dir, "aggregation.conf")
	os.WriteFile(schemas, []byte("[res]\npattern = ^res\\.\nretentions = 60s:1d\n"), 0o644)
	os.WriteFile(aggregation, []byte("[res]\npattern = ^res\\.\nxFilesFactor = 0\naggregationMethod = sum\n"), 0o644)
	p := startPlumbago(t, bin, "--backend", "whisper", "--data-dir", filepath.Join(dir, "data"),
		"--schemas", schemas, "--aggregation", aggregation, "--resize-on-start")
	got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&format=json&target=res.b&from=%d&until=%d", p.http, ts-60, ts))
	want := fmt.Sprintf(`[{"target": "res.b", "tags": {"name": "res.b"}, "datapoints": [[6.0, %d]]}]`, ts)
	if got != want {
		t.Errorf("render after resize on start = %s; want %s", got, want)
	}
	p.stop(t)
	f, err := whisper.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := f.Info()
	if fmt.Sprint(in.Archives) != "[60:1440]" || in.Method.String() != "sum" || in.XFilesFactor != 0 {
		t.Errorf("after resize on start the header says %v %s %g; want [60:1440] sum 0", in.Archives, in.Method, in.XFilesFactor)
	}
	if !p.waitLog("msg=\"resize on start\" series=1 resized=1") {
		t.Errorf("log lacks the resize summary:\n%s", p.log)
	}
}

// TestResizePebble runs the pebble side on the binary: points written over
// carbon under one schema; `plumbago resize --backend pebble --dry-run`
// lists the series and changes nothing; serve --resize-on-start with new
// schemas re-shapes it before serving, as whisper-resize would (the two
// points of one new slot: the later wins, storage/pebble's
// TestResizeMatchesWhisper compares whole archives with whisper.Resize).
func TestResizePebble(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	oldSchemas, oldAggregation := filepath.Join(dir, "old-schemas.conf"), filepath.Join(dir, "old-aggregation.conf")
	os.WriteFile(oldSchemas, []byte("[res]\npattern = ^res\\.\nretentions = 10s:1h\n"), 0o644)
	os.WriteFile(oldAggregation, []byte("[res]\npattern = ^res\\.\nxFilesFactor = 0.5\naggregationMethod = average\n"), 0o644)
	schemas, aggregation := filepath.Join(dir, "schemas.conf"), filepath.Join(dir, "aggregation.conf")
	os.WriteFile(schemas, []byte("[res]\npattern = ^res\\.\nretentions = 60s:1d\n"), 0o644)
	os.WriteFile(aggregation, []byte("[res]\npattern = ^res\\.\nxFilesFactor = 0\naggregationMethod = sum\n"), 0o644)

	now := time.Now().Unix()
	ts := now - now%60 - 600
	p := startPlumbago(t, bin, "--backend", "pebble", "--data-dir", data, "--schemas", oldSchemas, "--aggregation", oldAggregation)
	sendCarbon(t, p.carbon, fmt.Sprintf("res.b 4 %d", ts), fmt.Sprintf("res.b 6 %d", ts+10))
	url := fmt.Sprintf("http://%s/render?noCache=1&format=json&target=res.b&from=%d&until=%d", p.http, ts-1, ts+10)
	want := fmt.Sprintf(`[{"target": "res.b", "tags": {"name": "res.b"}, "datapoints": [[4.0, %d], [6.0, %d]]}]`, ts, ts+10)
	waitFor(t, "both points rendered", func() bool { return readAll(t, url) == want })
	p.stop(t)

	out, err := exec.Command(bin, "resize", "--backend", "pebble", "--data-dir", data, "--schemas", schemas, "--aggregation", aggregation, "--dry-run").CombinedOutput()
	wantOut := "res.b: 10:360 average xff=0.5 -> 60:1440 sum xff=0 (4348 -> 17308 bytes)\n" +
		"1 of 1 series would be re-shaped (dry run): 4348 bytes before, 17308 after\n"
	if err != nil || string(out) != wantOut {
		t.Fatalf("resize --dry-run: %v\n%s\nwant\n%s", err, out, wantOut)
	}

	p = startPlumbago(t, bin, "--backend", "pebble", "--data-dir", data, "--schemas", schemas, "--aggregation", aggregation, "--resize-on-start")
	got := readAll(t, fmt.Sprintf("http://%s/render?noCache=1&format=json&target=res.b&from=%d&until=%d", p.http, ts-60, ts))
	want = fmt.Sprintf(`[{"target": "res.b", "tags": {"name": "res.b"}, "datapoints": [[6.0, %d]]}]`, ts)
	if got != want {
		t.Errorf("render after resize on start = %s; want %s", got, want)
	}
	p.stop(t)
	if !p.waitLog("msg=\"resize on start\" series=1 resized=1") {
		t.Errorf("log lacks the resize summary:\n%s", p.log)
	}
	// Nothing left to do.
	out, err = exec.Command(bin, "resize", "--backend", "pebble", "--data-dir", data, "--schemas", schemas, "--aggregation", aggregation).CombinedOutput()
	if want := "0 of 1 series re-shaped: 0 bytes before, 0 after\n"; err != nil || string(out) != want {
		t.Fatalf("second resize: %v %q; want %q", err, out, want)
	}
}
