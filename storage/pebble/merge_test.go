package pebble

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2"

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
	return mergeWith(tb, blockMerger, nil, old, new)
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
// still in a memtable). One op is one block. The -readback variants merge
// the key the writer reads back (the fast coding, merge.go).
func BenchmarkMergeFinish(b *testing.B) {
	var readBack atomic.Uint64
	key := makeDataKey(1, 0, 1)
	readBack.Store(readBackHint(key[:]))
	for _, set := range []string{"queryvs", "gauges", "collectd", "queryvs-readback", "gauges-readback", "collectd-readback"} {
		bm, k := blockMerger, []byte(nil)
		if base, ok := strings.CutSuffix(set, "-readback"); ok {
			bm, k, set = newBlockMerger(&readBack), key[:], base
		}
		cases := mergeCorpus(set, 200)
		b.Run(set+map[bool]string{true: "-readback"}[k != nil], func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c := &cases[i%len(cases)]
				i++
				vm, _ := bm.Merge(k, c.old)
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

// mergeWith runs merger bm's merge of key's operands old then new (Merge,
// MergeNewer, Finish) and returns a copy of the result.
func mergeWith(tb testing.TB, bm *pebble.Merger, key, old, new []byte) []byte {
	vm, err := bm.Merge(key, old)
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

// TestReadBackMerge: a merge of the key the writer reads back codes fast
// (integers frame-of-reference, anything else XOR) and still holds every
// slot bit for bit; a merge of any other key is byte for byte the smallest
// coding, as before.
func TestReadBackMerge(t *testing.T) {
	var readBack atomic.Uint64
	bm := newBlockMerger(&readBack)
	key := makeDataKey(3, 1024, 77)
	other := makeDataKey(3, 2048, 77)
	readBack.Store(readBackHint(key[:]))
	if readBackHint(other[:]) == readBackHint(key[:]) || readBackHint(key[:4]) != 0 {
		t.Fatal("readBackHint: neighbouring keys share a hint, or a short key has one")
	}
	edge := new(slotBuf)
	edge.reset()
	for i, v := range []float64{math.Copysign(0, -1), math.Inf(1), math.NaN(), 1 << 60, -maxExactInt, 0.1} {
		edge.set(5+100*i, v)
	}
	ints := new(slotBuf)
	ints.reset()
	for i, v := range []float64{-maxExactInt, maxExactInt, 0, 7} {
		ints.set(900+2*i, v)
	}
	type tc struct {
		name string
		full *slotBuf
	}
	cases := []tc{{"edge", edge}, {"ints-sparse", ints}}
	for _, b := range benchBlocks() {
		cases = append(cases, tc{b.name, b.src})
	}
	for _, set := range []string{"queryvs", "gauges", "collectd"} {
		for i, c := range mergeCorpus(set, 20) {
			cases = append(cases, tc{fmt.Sprintf("%s-%d", set, i), c.full})
		}
	}
	for _, c := range cases {
		// Two operands: the slots below and from the middle of the range.
		a, b := new(slotBuf), new(slotBuf)
		a.reset()
		b.reset()
		allInt := true
		mid := (c.full.lo + c.full.hi) / 2
		for i := c.full.lo; i <= c.full.hi; i++ {
			if !c.full.has(i) {
				continue
			}
			v := c.full.vals[i]
			if v != math.Trunc(v) || math.Abs(v) > maxExactInt || (v == 0 && math.Signbit(v)) {
				allInt = false
			}
			if i < mid {
				a.set(i, v)
			} else {
				b.set(i, v)
			}
		}
		old, nw := a.appendEncode(nil), b.appendEncode(nil)
		fast := mergeWith(t, bm, key[:], old, nw)
		got := decodeAll(t, fast)
		sameSlots(t, c.name, c.full, got)
		want := byte(encXOR)
		if allInt {
			want = encFOR
		}
		if h := fast[0] &^ flagDense; h != want {
			t.Errorf("%s: read-back merge header %#x, want coding %d", c.name, fast[0], want)
		}
		if got, want := mergeWith(t, bm, other[:], old, nw), mergeOperands(t, old, nw); !bytes.Equal(got, want) {
			t.Errorf("%s: merge of another key coded %x, want the smallest coding %x", c.name, got, want)
		}
	}
	readBack.Store(0)
	if got, want := mergeWith(t, bm, key[:], benchBlocks()[1].src.appendEncode(nil), benchBlocks()[0].src.appendEncode(nil)), mergeOperands(t, benchBlocks()[1].src.appendEncode(nil), benchBlocks()[0].src.appendEncode(nil)); !bytes.Equal(got, want) {
		t.Errorf("with no read-back the key's merge coded %x, want %x", got, want)
	}
}
