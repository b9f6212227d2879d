package clickhouse

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzDecode feeds arbitrary answers to the RowBinary decoders (points,
// pushed-down cells, paths): no panic, and what decodes re-encodes to the
// same rows.
func FuzzDecode(f *testing.F) {
	var rows []byte
	rows = appendU32(rows, 1_700_000_000)
	rows = appendF64(rows, 1.5)
	f.Add(rows)
	var paths []byte
	paths = appendString(paths, "a.b.c")
	paths = appendU32(paths, 7)
	paths = appendString(paths, "a.")
	paths = appendU32(paths, 8)
	f.Add(paths)
	var cells []byte
	cells = appendU32(cells, 1_700_000_000)
	cells = appendF64(cells, -2.25)
	cells = appendU32(appendU32(appendU32(cells, 3), 5), 1_700_000_010)
	f.Add(cells)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(binary.AppendUvarint(nil, math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := decodeRows(b); err == nil {
			var again []byte
			for _, r := range got {
				again = appendU32(again, uint32(r.t))
				again = appendF64(again, r.v)
			}
			if string(again) != string(b) {
				t.Fatalf("rows re-encode to %x, want %x", again, b)
			}
		}
		if got, err := decodeCells(b, 4); err == nil {
			if len(got) > 4 {
				t.Fatalf("%d cells decoded past the limit of 4", len(got))
			}
			var again []byte
			for _, c := range got {
				again = appendF64(appendU32(again, uint32(c.t)), c.agg)
				again = appendU32(appendU32(appendU32(again, c.n), c.raw), uint32(c.tmin))
			}
			if string(again) != string(b) {
				t.Fatalf("cells re-encode to %x, want %x", again, b)
			}
		}
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
