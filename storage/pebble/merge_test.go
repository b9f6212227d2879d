package pebble

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/plumbago/plumbago/internal/realdata"
)

// mergeCase is one block of a realistic series and the two merge operands
// a bulk load leaves for it: the writer flushed the series once in the
// middle of the block (what the query-vs load does to two keys in three,
// docs/pebble.md "Write path").
type mergeCase struct {
	full     *slotBuf
	old, new []byte // operands: slots [0, cut) and [cut, 1024)
}

// mergeCorpus returns the blocks of n series of the named set: "queryvs"
// (the query benchmark's load), "gauges" (realdata's two-decimal gauges)
// or "collectd" (realdata's collectd hosts: counters, sparse series,
// memory in pages), each cut into two operands at a slot that varies with
// the series.
func mergeCorpus(set string, n int) []mergeCase {
	var next func(i int) (float64, bool)
	switch set {
	case "queryvs": // loadtest's query-vs values: a level of i mod 100 plus uniform noise in tenths (0 to 99.9)
		r := rand.New(rand.NewPCG(5, 6))
		next = func(i int) (float64, bool) {
			return float64(i%100) + float64(r.IntN(1000))/10, true
		}
	case "gauges":
		next = realdata.Gauges(1, n, 2).Next
	case "collectd":
		d := realdata.Collectd(1, (n+37)/38)
		n = d.Len()
		next = d.Next
	}
	out := make([]mergeCase, n)
	for i := range out {
		full, a, b := new(slotBuf), new(slotBuf), new(slotBuf)
		full.reset()
		a.reset()
		b.reset()
		cut := 300 + 37*i%500
		for slot := 0; slot < blockSlots; slot++ {
			v, ok := next(i)
			if !ok {
				continue
			}
			full.set(slot, v)
			if slot < cut {
				a.set(slot, v)
			} else {
				b.set(slot, v)
			}
		}
		out[i] = mergeCase{full: full, old: a.appendEncode(nil), new: b.appendEncode(nil)}
	}
	return out
}

// mergeOperands runs pebble's merge of old then new (Merge, MergeNewer,
// Finish) and returns a copy of the result.
func mergeOperands(tb testing.TB, old, new []byte) []byte {
	vm, err := blockMerger.Merge(nil, old)
	if err != nil {
		tb.Fatal(err)
	}
	if err := vm.MergeNewer(new); err != nil {
		tb.Fatal(err)
	}
	out, closer, err := vm.Finish(false)
	if err != nil {
		tb.Fatal(err)
	}
	res := append([]byte(nil), out...)
	closer.Close()
	return res
}

// TestEncodeUnchanged pins the encoder's exact output on the realistic
// corpora: operands, merged blocks and whole blocks hash to the values the
// format had when the stored sizes in docs/pebble.md were measured, so a
// faster encoder cannot change a stored byte.
func TestEncodeUnchanged(t *testing.T) {
	want := map[string]string{
		"queryvs":  "d2c5030d18ca61a34fb3fb525f1f10966dfed37964cd00458278764353036f94",
		"gauges":   "628f31cb4e3254220bc3347fb20eef2b12b265b8a573ad530155b3f3f05ac5fa",
		"collectd": "824dd7d4041c9b5624e586b9571ffd391a041e05323ba166498c000cb915002c",
	}
	for set, w := range want {
		h := sha256.New()
		var whole slotBuf
		for _, c := range mergeCorpus(set, 200) {
			h.Write(c.old)
			h.Write(c.new)
			merged := mergeOperands(t, c.old, c.new)
			h.Write(merged)
			enc := c.full.appendEncode(nil)
			h.Write(enc)
			whole.reset()
			if err := whole.apply(merged); err != nil {
				t.Fatal(err)
			}
			sameSlots(t, set, &whole, c.full)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != w {
			t.Errorf("%s: encoded corpus hashes to %s; want %s", set, got, w)
		}
	}
	h := sha256.New()
	for _, tc := range benchBlocks() { // xor, ints, decimals, averages
		h.Write(tc.src.appendEncode(nil))
	}
	if got, w := hex.EncodeToString(h.Sum(nil)), "ce7785fcf86f5574d91737aaa12b1e1b7cb504c257143e68d6e941e5cc1d1bab"; got != w {
		t.Errorf("benchBlocks: encoded blocks hash to %s; want %s", got, w)
	}
}

// BenchmarkMergeFinish merges the two operands of realistic blocks (what
// a memtable flush pays per key after a bulk load, and a read of a block
// still in a memtable). One op is one block.
func BenchmarkMergeFinish(b *testing.B) {
	for _, set := range []string{"queryvs", "gauges", "collectd"} {
		cases := mergeCorpus(set, 200)
		b.Run(set, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := &cases[i%len(cases)]
				i++
				vm, _ := blockMerger.Merge(nil, c.old)
				_ = vm.MergeNewer(c.new)
				_, closer, err := vm.Finish(false)
				if err != nil {
					b.Fatal(err)
				}
				closer.Close()
			}
		})
	}
}
