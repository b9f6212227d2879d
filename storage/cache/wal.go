package cache

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// The write-ahead log makes buffered points survive a crash for backends
// without a log of their own (whisper). Each shard appends every chunk it
// files to its current segment; at the start of each write cycle, when the
// shard hands everything buffered to the writer, it starts a new segment, and
// once that cycle's batches are written the older segments are deleted. On
// start, segments left by a crash are replayed into the cache before ingest
// opens. A syncer fsyncs every SyncInterval, which bounds what a power loss
// can take.
//
// Segment file: <dir>/<shard>-<seq>.wal, a sequence of records:
//
//	record  = length u32 LE | crc32c(payload) u32 LE | payload
//	payload = entry*
//	entry   = nameLen u16 LE | name | timestamp i64 LE | value f64 bits LE
//
// Replay stops at the first short or corrupt record of a segment (a torn
// tail write), keeping everything before it.

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxRecord bounds one record on replay; a larger length is corruption.
const maxRecord = 64 << 20

type wal struct {
	dir   string
	shard int

	mu  sync.Mutex // guards f, w, seq
	f   *os.File
	w   *bufio.Writer
	seq uint64
	// first is the first sequence this process wrote: older segments are
	// crash leftovers that only Replay may delete.
	first uint64
	buf   []byte // encoding scratch, owned by the shard consumer
}

func segmentName(shard int, seq uint64) string {
	return fmt.Sprintf("%03d-%020d.wal", shard, seq)
}

// parseSegment returns the shard and sequence of a segment file name.
func parseSegment(name string) (shard int, seq uint64, ok bool) {
	base, found := strings.CutSuffix(name, ".wal")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(base, "-")
	if !found {
		return 0, 0, false
	}
	sh, err1 := strconv.Atoi(a)
	sq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return sh, sq, true
}

// openWAL opens the shard's first segment. On a volume that refuses it
// (volumeRefused) it returns the wal without a segment, and the error:
// appends and syncs fail until a rotation opens one.
func openWAL(dir string, shard int, firstSeq uint64) (*wal, error) {
	w := &wal{dir: dir, shard: shard, seq: firstSeq, first: firstSeq}
	if err := w.openSegment(); err != nil {
		if volumeRefused(err) {
			return w, err
		}
		return nil, err
	}
	return w, nil
}

// volumeRefused reports a failure the volume may lift by itself: it is
// read-only or full.
func volumeRefused(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// errNoSegment is returned by appends and syncs while no segment is open.
var errNoSegment = errors.New("no write-ahead log segment open (the volume refused one)")

func (w *wal) openSegment() error {
	f, err := os.OpenFile(filepath.Join(w.dir, segmentName(w.shard, w.seq)), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating wal segment: %w", err)
	}
	w.f = f
	if w.w == nil {
		w.w = bufio.NewWriterSize(f, 1<<20)
	} else {
		w.w.Reset(f)
	}
	return nil
}

// append logs a chunk. Errors are counted and logged by the caller; a
// failing log must not stop ingest.
func (w *wal) append(ch *chunk) error {
	b := w.buf[:0]
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	for _, e := range ch.entries {
		name := ch.names[e.off : e.off+e.n]
		b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
		b = append(b, name...)
		b = binary.LittleEndian.AppendUint64(b, uint64(e.ts))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.v))
	}
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)-8))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crcTable))
	w.buf = b
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return errNoSegment
	}
	_, err := w.w.Write(b)
	return err
}

// rotate starts a new segment and returns the sequence number of the one it
// closed: every point logged so far is in segments ≤ that number.
func (w *wal) rotate() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old := w.seq
	err := w.closeLocked(false)
	w.seq++
	if oerr := w.openSegment(); oerr != nil {
		return old, errors.Join(err, oerr)
	}
	return old, err
}

func (w *wal) closeLocked(sync bool) error {
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if sync {
		err = errors.Join(err, w.f.Sync())
	}
	err = errors.Join(err, w.f.Close())
	w.f = nil // until openSegment succeeds: appends fail instead of buffering
	return err
}

// sync makes everything appended so far durable.
func (w *wal) sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		// The volume refused the segment: try again (every sync
		// interval), so logging resumes once it takes writes.
		if err := w.openSegment(); err != nil {
			return fmt.Errorf("%w: %w", errNoSegment, err)
		}
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("flushing wal: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("syncing wal: %w", err)
	}
	return nil
}

// removeThrough deletes the segments this shard wrote, up to and including
// seq.
func (w *wal) removeThrough(seq uint64) error {
	segs, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range segs {
		if s.shard == w.shard && s.seq >= w.first && s.seq <= seq {
			if err := os.Remove(filepath.Join(w.dir, s.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (w *wal) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeLocked(true)
}

type segment struct {
	name  string
	shard int
	seq   uint64
}

// listSegments returns the segments in dir ordered by sequence.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing wal dir: %w", err)
	}
	var segs []segment
	for _, e := range ents {
		if sh, sq, ok := parseSegment(e.Name()); ok && !e.IsDir() {
			segs = append(segs, segment{e.Name(), sh, sq})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	return segs, nil
}

// ErrCorruptRecord reports a record whose checksum or length is wrong.
var ErrCorruptRecord = errors.New("corrupt wal record")

// readSegment calls fn for every point of the segment, in order. A torn or
// corrupt record ends the segment: it returns the points read before it and
// ErrCorruptRecord (io.ErrUnexpectedEOF for a short tail).
func readSegment(r io.Reader, fn func(name []byte, ts int64, v float64)) (int, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [8]byte
	var payload []byte
	n := 0
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, io.ErrUnexpectedEOF
		}
		size := binary.LittleEndian.Uint32(hdr[0:])
		if size > maxRecord {
			return n, ErrCorruptRecord
		}
		if cap(payload) < int(size) {
			payload = make([]byte, size)
		}
		payload = payload[:size]
		if _, err := io.ReadFull(br, payload); err != nil {
			return n, io.ErrUnexpectedEOF
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
			return n, ErrCorruptRecord
		}
		// Validate the whole record before delivering any of it.
		for p := payload; len(p) > 0; {
			if len(p) < 2 {
				return n, ErrCorruptRecord
			}
			l := int(binary.LittleEndian.Uint16(p))
			if len(p) < 2+l+16 {
				return n, ErrCorruptRecord
			}
			p = p[2+l+16:]
		}
		for p := payload; len(p) > 0; {
			l := int(binary.LittleEndian.Uint16(p))
			name := p[2 : 2+l]
			ts := int64(binary.LittleEndian.Uint64(p[2+l:]))
			v := math.Float64frombits(binary.LittleEndian.Uint64(p[2+l+8:]))
			fn(name, ts, v)
			n++
			p = p[2+l+16:]
		}
	}
}
