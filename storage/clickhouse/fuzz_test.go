package clickhouse

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzDecode feeds arbitrary answers to the RowBinary decoders (points
// and pushed-down cells by path, paths): no panic, at most the limit of
// rows, runs that cover the rows in order, and what decodes re-encodes to
// the same rows.
func FuzzDecode(f *testing.F) {
	var rows []byte
	for _, p := range []string{"a.b", "a.b", "a.c"} {
		rows = appendString(rows, p)
		rows = appendU32(rows, 1_700_000_000)
		rows = appendU32(rows, 3)
		rows = appendF64(rows, 1.5)
	}
	f.Add(rows)
	var paths []byte
	paths = appendString(paths, "a.b.c")
	paths = appendU32(paths, 7)
	paths = appendString(paths, "a.")
	paths = appendU32(paths, 8)
	f.Add(paths)
	var cells []byte
	cells = appendString(cells, "x;t=1")
	cells = appendU32(cells, 1_700_000_000)
	cells = appendF64(cells, -2.25)
	cells = appendU32(appendU32(appendU32(cells, 3), 5), 1_700_000_010)
	f.Add(cells)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(binary.AppendUvarint(nil, math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		encRow := func(b []byte, r vrow) []byte { return appendF64(appendU32(appendU32(b, uint32(r.t)), r.ver), r.v) }
		roundTrip(t, b, decodeRow, encRow)
		roundTrip(t, b, decodeCell, func(b []byte, c cell) []byte {
			b = appendF64(appendU32(b, uint32(c.t)), c.agg)
			return appendU32(appendU32(appendU32(b, c.n), c.raw), uint32(c.tmin))
		})
		type row struct {
			p string
			v uint32
		}
		var first, second []row
		var again []byte
		if err := decodePaths(b, func(p string, v uint32) {
			first = append(first, row{p, v})
			again = appendU32(appendString(again, p), v)
		}); err != nil {
			return
		}
		// Lengths may be written with longer uvarints than ours: compare
		// what decodes, not the bytes.
		if err := decodePaths(again, func(p string, v uint32) { second = append(second, row{p, v}) }); err != nil {
			t.Fatalf("re-encoded paths: %v", err)
		}
		if len(first) != len(second) {
			t.Fatalf("re-encoded paths: %d rows, want %d", len(second), len(first))
		}
		for i := range first {
			if first[i] != second[i] {
				t.Fatalf("row %d re-decodes to %v, want %v", i, second[i], first[i])
			}
		}
	})
}

// roundTrip decodes b by path (at most 4 rows) and, when it decodes,
// checks the runs, encodes the rows again and decodes that to the same
// encoding: lengths may be written with longer uvarints than ours, so what
// decodes is compared, not the bytes.
func roundTrip[T any](t *testing.T, b []byte, dec func(*reader) T, enc func([]byte, T) []byte) {
	got, runs, err := decodeByPath(b, 4, dec)
	if err != nil {
		return
	}
	if len(got) > 4 {
		t.Fatalf("%d rows decoded past the limit of 4", len(got))
	}
	again := reencode(t, got, runs, enc)
	got2, runs2, err := decodeByPath(again, 4, dec)
	if err != nil {
		t.Fatalf("re-encoded rows: %v", err)
	}
	if twice := reencode(t, got2, runs2, enc); string(twice) != string(again) || len(got2) != len(got) {
		t.Fatalf("rows re-decode to %x, want %x", twice, again)
	}
}

// reencode checks that runs cover rows in order, one run per change of
// path, and encodes the rows again with their paths (shortest uvarints).
func reencode[T any](t *testing.T, rows []T, runs []pathRun, enc func([]byte, T) []byte) []byte {
	var b []byte
	next := 0
	for i, r := range runs {
		if r.lo != next || r.hi <= r.lo || (i > 0 && runs[i-1].path == r.path) {
			t.Fatalf("runs %v do not cover %d rows in order", runs, len(rows))
		}
		for _, x := range rows[r.lo:r.hi] {
			b = enc(appendString(b, r.path), x)
		}
		next = r.hi
	}
	if next != len(rows) {
		t.Fatalf("runs %v cover %d of %d rows", runs, next, len(rows))
	}
	return b
}
