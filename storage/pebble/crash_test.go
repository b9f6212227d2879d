package pebble

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
)

// The crash tests re-run this test binary as a child that writes to a
// store and reports every committed Write on stdout; the parent kills it
// (SIGKILL or SIGTERM), reopens the store and checks what survived.

const (
	crashChildEnv  = "PLUMBAGO_PEBBLE_CRASH_CHILD" // "<dir>"
	crashSeries    = 50
	crashSteps     = 800
	crashSync      = 100 * time.Millisecond
	crashBase      = testNow - 850
	crashFetchNow  = crashBase + crashSteps + 10
	crashWriteWait = 2 * time.Millisecond
)

func crashOptions(dir string) Options {
	opts := DefaultOptions()
	opts.Dir = dir
	opts.SyncInterval = crashSync
	opts.Now = func() int64 { return crashFetchNow }
	return opts
}

// crashChild writes step k (one point per series at crashBase+k, value k)
// and prints "k unixnanos" after each committed Write. On SIGTERM it closes
// the store and exits 0.
func crashChild() {
	dir := os.Getenv(crashChildEnv)
	opts := crashOptions(dir)
	opts.Rules = w1Rules(nil)
	s, err := Open(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	out := bufio.NewWriter(os.Stdout)
	var b storage.Batch
	for j := 0; j < crashSeries; j++ {
		b.Series = append(b.Series, storage.SeriesPoints{Name: fmt.Sprintf("crash.s%02d", j), Points: make([]storage.Point, 1)})
	}
	for k := 0; k < crashSteps; k++ {
		select {
		case <-term:
			if err := s.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
			out.Flush()
			os.Exit(0)
		default:
		}
		for j := range b.Series {
			b.Series[j].Points[0] = storage.Point{Timestamp: crashBase + int64(k), Value: float64(k)}
		}
		if err := s.Write(&b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintf(out, "%d %d\n", k, time.Now().UnixNano())
		out.Flush()
		time.Sleep(crashWriteWait)
	}
	<-term
	s.Close()
	os.Exit(0)
}

// runCrashChild starts the child, lets it write for d, sends sig and
// returns the (step, time) lines it printed.
func runCrashChild(t *testing.T, dir string, d time.Duration, sig syscall.Signal) (steps []int, times []time.Time, sent time.Time) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	first := make(chan struct{}) // closed at the first step: the child's signal handler is installed
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			k, _ := strconv.Atoi(f[0])
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			if len(steps) == 0 {
				close(first)
			}
			steps = append(steps, k)
			times = append(times, time.Unix(0, ns))
		}
	}()
	// The writing time counts from the child's first committed step, not
	// from its start: on a loaded machine starting the test binary and
	// opening the store can take longer than d, and a SIGTERM sent before
	// signal.Notify ends the child with the default action.
	select {
	case <-first:
	case <-done:
	}
	time.Sleep(d)
	sent = time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	if sig == syscall.SIGTERM && err != nil {
		t.Fatalf("child after SIGTERM: %v\n%s", err, stderr.String())
	}
	if len(steps) == 0 {
		t.Fatalf("child wrote nothing: %s", stderr.String())
	}
	return steps, times, sent
}

// survivors reopens dir and returns, per series, the highest step k such
// that every step 0..k is present with value k (and checks that nothing
// beyond it is present out of order or with a wrong value).
func survivors(t *testing.T, dir string) int {
	t.Helper()
	opts := crashOptions(dir)
	opts.Rules = w1Rules(t)
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("reopening after crash: %v", err)
	}
	defer s.Close()
	minK := crashSteps
	for j := 0; j < crashSeries; j++ {
		name := fmt.Sprintf("crash.s%02d", j)
		got, err := s.Fetch(name, crashBase-1, crashBase+crashSteps, crashFetchNow)
		if err != nil {
			t.Fatalf("fetch %s: %v", name, err)
		}
		if got.Start != crashBase || got.Step != 1 {
			t.Fatalf("fetch %s: start %d step %d", name, got.Start, got.Step)
		}
		k := 0
		for ; k < len(got.Values) && got.Values[k] == float64(k); k++ {
		}
		for i := k; i < len(got.Values); i++ {
			if v := got.Values[i]; v == v {
				t.Errorf("%s: step %d present (%v) after a missing step %d", name, i, v, k)
				break
			}
		}
		minK = min(minK, k)
	}
	return minK // number of leading steps every series has
}

func TestCrashKill9(t *testing.T) {
	dir := t.TempDir()
	steps, times, killed := runCrashChild(t, dir, 1200*time.Millisecond, syscall.SIGKILL)
	have := survivors(t, dir)
	// Every Write committed a few sync intervals before the kill must have
	// survived (the margin absorbs scheduling delays on a loaded machine).
	must := 0
	for i, k := range steps {
		if times[i].Before(killed.Add(-4 * crashSync)) {
			must = k + 1
		}
	}
	t.Logf("child committed %d steps, %d were synced before the kill; %d survived", len(steps), must, have)
	if have < must {
		t.Errorf("after kill -9: %d steps survived, want at least %d (all synced ones)", have, must)
	}
	if have > len(steps)+1 {
		t.Errorf("after kill -9: %d steps survived but the child reported %d", have, len(steps))
	}
}

func TestCrashSIGTERM(t *testing.T) {
	dir := t.TempDir()
	steps, _, _ := runCrashChild(t, dir, 400*time.Millisecond, syscall.SIGTERM)
	have := survivors(t, dir)
	if want := steps[len(steps)-1] + 1; have != want {
		t.Errorf("after SIGTERM: %d steps survived, want all %d", have, want)
	}
}
