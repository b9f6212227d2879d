package pebble

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Summary reports what ImportWhisper did.
type Summary struct {
	Files          int           // .wsp files found
	Imported       int           // files imported
	Created        int           // series created by the import
	Existing       int           // series that existed with the same archives (re-import)
	Points         int64         // points imported, all archives
	Skipped        int           // files not imported (see Errors)
	StaleSlots     int64         // slots whose timestamp does not match their ring position
	Errors         []string      // first errors, "path: reason"
	Bytes          int64         // bytes of whisper files read
	Duration       time.Duration // wall time
	SkippedTagged  int           // files under _tagged/ whose name is not recoverable (hash-named)
	maxErrorsShown int
}

func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %d of %d whisper files (%d series created, %d already present) in %s\n",
		s.Imported, s.Files, s.Created, s.Existing, s.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "points: %d from %.1f MB of whisper files", s.Points, float64(s.Bytes)/1e6)
	if s.StaleSlots > 0 {
		fmt.Fprintf(&b, ", %d misplaced slots ignored", s.StaleSlots)
	}
	b.WriteString("\n")
	if s.SkippedTagged > 0 {
		fmt.Fprintf(&b, "skipped %d files under _tagged/ whose series name is not recoverable (hash-named)\n", s.SkippedTagged)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, "skipped %d files:\n", s.Skipped)
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		if n := s.Skipped - len(s.Errors); n > 0 {
			fmt.Fprintf(&b, "  ... and %d more\n", n)
		}
	}
	return b.String()
}

// Progress is told, after each file, how many of total files are done and
// how many points were imported so far.
type Progress func(done, total int, points int64)

// ErrSchemaMismatch is reported for a whisper file whose series already
// exists in the store with different archives.
var ErrSchemaMismatch = errors.New("series exists with different archives")

// ImportWhisper copies every whisper file under dir into the store. Each
// metric (path relative to dir, "/" -> ".", without ".wsp") keeps the
// file's own archives, aggregation method and xFilesFactor (tagged series
// under _tagged/ take the name carbon encoded in the file name; hash-named
// ones are counted and skipped), and every
// archive is copied as it is, so data that only survives in the coarser
// archives is kept. Slots older than their archive's retention (invisible
// to whisper's fetch) are not copied. Re-running is safe: slots are
// overwritten with the same values. progress (nil = none) is called after
// each file. The store keeps serving during the import.
func ImportWhisper(ctx context.Context, s *Store, dir string, progress Progress) (Summary, error) {
	start := time.Now()
	sum := Summary{maxErrorsShown: 20}
	var files []importFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".wsp") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		parts := strings.Split(rel, string(filepath.Separator))
		if parts[0] == "_tagged" {
			// Carbon's tagged series: _tagged/<h[0:3]>/<h[3:6]>/<file>.wsp,
			// the file named by the series name with '.' as "_DOT_", or by
			// its SHA-256 (which cannot be turned back into a name).
			leaf := strings.TrimSuffix(d.Name(), ".wsp")
			name := strings.ReplaceAll(leaf, "_DOT_", ".")
			if len(parts) != 4 || isHexHash(leaf) || !strings.Contains(name, ";") {
				sum.SkippedTagged++
				return nil
			}
			files = append(files, importFile{path: path, rel: rel, name: name})
			return nil
		}
		name := strings.Join(parts, ".")
		files = append(files, importFile{path: path, rel: rel, name: strings.TrimSuffix(name, ".wsp")})
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("scanning whisper tree %q: %w", dir, err)
	}
	slices.SortFunc(files, func(a, b importFile) int { return strings.Compare(a.rel, b.rel) })
	sum.Files = len(files)
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			sum.Duration = time.Since(start)
			return sum, err
		}
		rel, path, name := f.rel, f.path, f.name
		n, created, stale, size, err := s.importFile(path, name)
		sum.Bytes += size
		sum.StaleSlots += int64(stale)
		if err != nil {
			sum.Skipped++
			if len(sum.Errors) < sum.maxErrorsShown {
				sum.Errors = append(sum.Errors, fmt.Sprintf("%s: %v", rel, err))
			}
		} else {
			sum.Imported++
			sum.Points += n
			if created {
				sum.Created++
			} else {
				sum.Existing++
			}
		}
		if progress != nil {
			progress(i+1, len(files), sum.Points)
		}
	}
	sum.Duration = time.Since(start)
	return sum, nil
}

type importFile struct{ path, rel, name string }

func isHexHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// importFile imports one whisper file as metric name.
func (s *Store) importFile(path, name string) (points int64, created bool, stale int, size int64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, 0, 0, err
	}
	size = int64(len(b))
	f, err := parseWhisper(b)
	if err != nil {
		return 0, false, 0, size, err
	}
	s.lockWriter()
	defer s.writeMu.Unlock()
	if s.db == nil {
		return 0, false, 0, size, ErrClosed
	}
	w := &s.w
	if w.batch == nil {
		w.batch = s.db.NewBatch()
	}
	w.gen++
	ser := s.names.get(name)
	if ser == nil {
		sc, err := s.schemaFor(w.batch, f.retentions(), f.method, f.xff)
		if err != nil {
			w.resetBatch()
			return 0, false, 0, size, err
		}
		if ser, err = s.createSeries(name, sc); err != nil {
			w.resetBatch()
			return 0, false, 0, size, err
		}
		created = true
	} else if !sameArchives(s.schemaOf(ser), f) {
		return 0, false, 0, size, ErrSchemaMismatch
	}
	// The writer's tails no longer describe the series.
	w.forgetTails(ser)
	ser.gen = w.gen
	w.ser, w.sc = ser, s.schemaOf(ser)
	now := s.opts.Now()
	for i := range f.archives {
		minTs := now - f.archives[i].step*f.archives[i].points
		step := f.archives[i].step
		stale += f.eachPoint(b, i, minTs, func(ts int64, v float64) {
			blk := w.block(i, ts)
			blk.dirty.set(int((ts-blk.start)/step), v)
			points++
		})
	}
	err = w.flushSeries()
	w.release()
	if err == nil {
		err = w.commit()
	}
	if err == nil {
		s.stats.written.Add(points)
	}
	return points, created, stale, size, err
}

func sameArchives(sc *seriesSchema, f *wspFile) bool {
	if len(sc.archives) != len(f.archives) {
		return false
	}
	for i, a := range sc.archives {
		if a.step != f.archives[i].step || a.points != f.archives[i].points {
			return false
		}
	}
	return true
}
