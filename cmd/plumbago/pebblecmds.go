package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
)

// The pebble store's offline subcommands: import-whisper, checkpoint and
// reencode.

// progressBar draws "[=====>    ] 120/400 files  30.0%  1234567 points" on
// one terminal line, at most every 100 ms.
type progressBar struct {
	w     io.Writer
	total int
	last  time.Time
}

// update is a pebble.Progress.
func (p *progressBar) update(done, total int, points int64) {
	p.total = total
	if time.Since(p.last) < 100*time.Millisecond && done != p.total {
		return
	}
	p.last = time.Now()
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	fill := int(frac * width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d files %5.1f%% %d points", bar, done, p.total, 100*frac, points)
}

// done draws the final state and ends the line.
func (p *progressBar) done(points int64) {
	p.last = time.Time{}
	p.update(p.total, p.total, points)
	fmt.Fprintln(p.w)
}

// runImportWhisper implements `plumbago import-whisper`: it parses its own
// flags (--from DIR, --data-dir D, --schemas F, --aggregation F), opens the
// pebble store under D/pebble (the server must not be running on it),
// imports and prints the progress bar and a summary to stdout. With
// --backend clickhouse it copies the tree into ClickHouse instead, as
// `plumbago copy --from-backend whisper` does (copycmd.go).
func runImportWhisper(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("import-whisper", flag.ContinueOnError)
	fl.SetOutput(stdout)
	from := fl.String("from", "", "root of the carbon whisper tree to import (required)")
	dataDir := fl.String("data-dir", "./data", "plumbago data directory; the store is <data-dir>/pebble")
	schemas := fl.String("schemas", "", "storage-schemas.conf for series created later by ingest (default built in); with clickhouse, the schema that decides which points are kept")
	aggregation := fl.String("aggregation", "", "storage-aggregation.conf (default built in)")
	backend := fl.String("backend", "pebble", "where to import: pebble (keeps each file's archives) or clickhouse (the --clickhouse-* flags, as serve takes them)")
	ch := DefaultConfig()
	clickhouseFlags(fl, &ch)
	var o copyOptions
	fl.StringVar(&o.state, "state", "", "clickhouse: resume log (default <data-dir>/copy.state; see plumbago copy)")
	fl.DurationVar(&o.progressInterval, "progress-interval", 5*time.Second, "clickhouse: how often a progress line goes to stderr (0 = none)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("import-whisper: --from is required")
	}
	if st, err := os.Stat(*from); err != nil || !st.IsDir() {
		return fmt.Errorf("import-whisper: --from %q is not a directory", *from)
	}
	switch *backend {
	case "pebble":
	case "clickhouse":
		src := DefaultConfig()
		src.Backend, src.WhisperDir = "whisper", *from
		ch.Backend, ch.DataDir, ch.Schemas, ch.Aggregation = "clickhouse", *dataDir, *schemas, *aggregation
		if err := ch.validate(); err != nil {
			return fmt.Errorf("import-whisper: %w", err)
		}
		o.batchPoints = 200_000
		if err := copyStores(src, ch, o, stdout, stderr); err != nil {
			return fmt.Errorf("import-whisper: %w", err)
		}
		return nil
	default:
		return fmt.Errorf("import-whisper: --backend %q: must be pebble or clickhouse", *backend)
	}
	rules, err := schema.Load(*schemas, *aggregation)
	if err != nil {
		return fmt.Errorf("import-whisper: %w", err)
	}
	opts := pebble.DefaultOptions()
	opts.Dir = filepath.Join(*dataDir, "pebble")
	opts.Rules = rules
	s, err := pebble.Open(opts)
	if err != nil {
		return fmt.Errorf("import-whisper: %w", err)
	}
	bar := &progressBar{w: stdout}
	sum, err := pebble.ImportWhisper(context.Background(), s, *from, bar.update)
	bar.done(sum.Points)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	fmt.Fprint(stdout, sum.String())
	if err != nil {
		return fmt.Errorf("import-whisper: %w", err)
	}
	return nil
}

// runCheckpoint implements `plumbago checkpoint --data-dir D --dest
// DIR` for a store that is not open elsewhere (a running server takes
// backups through Store.Checkpoint, e.g. its admin endpoint): it opens
// D/pebble and writes a consistent copy to DIR, which must not exist.
func runCheckpoint(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("checkpoint", flag.ContinueOnError)
	fl.SetOutput(stdout)
	dataDir := fl.String("data-dir", "./data", "plumbago data directory; the store is <data-dir>/pebble")
	dest := fl.String("dest", "", "directory to create with the checkpoint (required, must not exist)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dest == "" {
		return errors.New("checkpoint: --dest is required")
	}
	opts := pebble.DefaultOptions()
	opts.Dir = filepath.Join(*dataDir, "pebble")
	if _, err := os.Stat(opts.Dir); err != nil {
		return fmt.Errorf("checkpoint: no store at %q: %w", opts.Dir, err)
	}
	s, err := pebble.Open(opts)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	err = s.Checkpoint(*dest)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	fmt.Fprintf(stdout, "checkpoint of %s written to %s\n", opts.Dir, *dest)
	return nil
}

// runReencode implements `plumbago reencode --data-dir D` for a store that
// is not open elsewhere: it rewrites every block an older release encoded
// in today's (smaller) block format, values unchanged, then compacts so
// the space comes back, and prints the blocks rewritten and the sstable
// bytes before and after.
func runReencode(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("reencode", flag.ContinueOnError)
	fl.SetOutput(stdout)
	dataDir := fl.String("data-dir", "./data", "plumbago data directory; the store is <data-dir>/pebble")
	if err := fl.Parse(args); err != nil {
		return err
	}
	opts := pebble.DefaultOptions()
	opts.Dir = filepath.Join(*dataDir, "pebble")
	if _, err := os.Stat(opts.Dir); err != nil {
		return fmt.Errorf("reencode: no store at %q: %w", opts.Dir, err)
	}
	s, err := pebble.Open(opts)
	if err != nil {
		return fmt.Errorf("reencode: %w", err)
	}
	before := s.Stats().TableBytes
	n, err := s.Reencode()
	if err == nil {
		err = s.Flush(true)
	}
	after := s.Stats().TableBytes
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("reencode: %w", err)
	}
	fmt.Fprintf(stdout, "re-encoded %d blocks of %s: sstables %d bytes before, %d after\n", n, opts.Dir, before, after)
	return nil
}
