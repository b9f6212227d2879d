package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// TestStagedBatchInKeyOrder stages merge operands and name records out of
// order, as a write of series in the write buffer's order does, and checks
// the batch they reach: every entry once, with its value, operands ('D')
// before names ('N'), each in key order, and two operands of one key in
// the order they were staged.
func TestStagedBatchInKeyOrder(t *testing.T) {
	s := openTest(t, w1Rules(t), nil)
	defer s.Close()
	w := &s.w
	w.batch = s.db.NewBatch()
	dirty := func(slot int, v float64) *slotBuf {
		var b slotBuf
		b.reset()
		b.set(slot, v)
		return &b
	}
	// (ring, start, id) in staging order; the last one repeats a key.
	ops := [][3]uint32{{1, 3600, 7}, {0, 60, 7}, {0, 60, 2}, {1, 0, 9}, {0, 120, 2}, {0, 60, 2}}
	for i, o := range ops {
		w.stageMerge(uint16(o[0]), o[1], o[2], dirty(i, float64(i)))
	}
	for _, n := range []string{"b.c", "a.z", "b.a", "a"} {
		w.stageName(n, uint32(len(n)), 3)
	}
	if err := w.applyStaged(); err != nil {
		t.Fatal(err)
	}
	if len(w.ops) != 0 || len(w.names) != 0 || len(w.opBuf) != 0 {
		t.Fatalf("staged after apply: %d ops, %d names, %d bytes", len(w.ops), len(w.names), len(w.opBuf))
	}
	var got []string
	r := w.batch.Reader()
	for {
		kind, k, v, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		switch kind {
		case pebble.InternalKeyKindMerge:
			ring, start, id, ok := parseDataKey(k)
			if !ok {
				t.Fatalf("merge under %x", k)
			}
			var b slotBuf
			b.reset()
			if err := b.apply(v); err != nil {
				t.Fatal(err)
			}
			slot := -1
			for i := range blockSlots {
				if b.has(i) {
					slot = i
				}
			}
			got = append(got, fmt.Sprintf("D %d %d %d slot %d = %g", ring, start, id, slot, b.vals[slot]))
		case pebble.InternalKeyKindSet:
			id, n := binary.Uvarint(v)
			sch, _ := binary.Uvarint(v[n:])
			got = append(got, fmt.Sprintf("%c %s -> %d %d", k[0], k[1:], id, sch))
		default:
			t.Fatalf("entry of kind %v", kind)
		}
	}
	want := []string{
		"D 0 60 2 slot 2 = 2",
		"D 0 60 2 slot 5 = 5",
		"D 0 60 7 slot 1 = 1",
		"D 0 120 2 slot 4 = 4",
		"D 1 0 9 slot 3 = 3",
		"D 1 3600 7 slot 0 = 0",
		"N a -> 1 3",
		"N a.z -> 3 3",
		"N b.a -> 3 3",
		"N b.c -> 3 3",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("batch:\n%q\nwant\n%q", got, want)
	}
}

// TestGrowStage: a batch past half of maxRetainedStage grows its staging
// buffers once to what the last commits staged, keeping what it holds; a
// small batch does not; the hint halves at each smaller commit.
func TestGrowStage(t *testing.T) {
	w := &writer{stageHint: stageSizes{opBuf: 8 << 20, ops: 300_000, names: 1000}}
	w.opBuf = make([]byte, 1000, 1000+stageSlack/2)
	w.opBuf[999] = 7
	w.growStage()
	if cap(w.opBuf) != 1000+stageSlack/2 || w.ops != nil {
		t.Fatalf("small batch: opBuf cap %d, ops cap %d; want %d, 0", cap(w.opBuf), cap(w.ops), 1000+stageSlack/2)
	}
	n := maxRetainedStage / 2
	w.opBuf = make([]byte, n, n+stageSlack/2)
	w.opBuf[n-1] = 9
	w.ops = make([]stagedOp, 5)
	w.ops[4].off = 42
	w.growStage()
	if cap(w.opBuf) < 8<<20 || len(w.opBuf) != n || w.opBuf[n-1] != 9 {
		t.Fatalf("large batch: opBuf len %d cap %d last %d; want %d, >= %d, 9", len(w.opBuf), cap(w.opBuf), w.opBuf[n-1], n, 8<<20)
	}
	if cap(w.ops) < 300_000 || len(w.ops) != 5 || w.ops[4].off != 42 || cap(w.names) < 1000 {
		t.Fatalf("large batch: ops len %d cap %d, names cap %d; want 5, >= 300000, >= 1000", len(w.ops), cap(w.ops), cap(w.names))
	}
	w.opBuf = w.opBuf[:2<<20]
	w.ops, w.names = w.ops[:0], w.names[:0]
	w.dropStaged()
	if w.stageHint != (stageSizes{opBuf: 4 << 20, ops: 150_000, names: 500}) || w.opBuf != nil {
		t.Fatalf("hint %+v after a 2 MiB commit (opBuf kept: %v); want {4 MiB 150000 500}, let go", w.stageHint, w.opBuf != nil)
	}
}

// TestStagedOperandBytes stages blocks of random slots (ranges across
// presence words, gaps, integers and fractions, one slot, a full block)
// and checks that the batch gets each operand exactly as encoding the
// block directly gives it, in staging order.
func TestStagedOperandBytes(t *testing.T) {
	s := openTest(t, w1Rules(t), nil)
	defer s.Close()
	w := &s.w
	w.batch = s.db.NewBatch()
	rng := rand.New(rand.NewPCG(1, 2))
	var want [][]byte
	for i := range 200 {
		var b slotBuf
		b.reset()
		lo := rng.IntN(blockSlots)
		hi := min(blockSlots-1, lo+rng.IntN(300))
		switch i {
		case 0:
			lo, hi = 0, blockSlots-1
		case 1:
			lo, hi = 63, 64
		case 2:
			lo, hi = 500, 500
		}
		for slot := lo; slot <= hi; slot++ {
			if slot != lo && slot != hi && rng.IntN(4) == 0 {
				continue // a gap
			}
			v := float64(rng.IntN(1000))
			if i%2 == 1 {
				v += float64(rng.IntN(100)) / 7
			}
			b.set(slot, v)
		}
		want = append(want, b.appendEncode(nil))
		w.stageMerge(0, 0, uint32(i), &b) // ids in staging order: the batch's order
	}
	if err := w.applyStaged(); err != nil {
		t.Fatal(err)
	}
	r := w.batch.Reader()
	for i := 0; ; i++ {
		kind, _, v, ok, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if i != len(want) {
				t.Fatalf("%d operands in the batch, want %d", i, len(want))
			}
			break
		}
		if kind != pebble.InternalKeyKindMerge || !bytes.Equal(v, want[i]) {
			t.Fatalf("operand %d: kind %v, %x; want a merge of %x", i, kind, v, want[i])
		}
	}
}
