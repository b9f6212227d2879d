package statsd

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestTableAgainstMap drives a table through the operations the loops and
// the Flusher use (getLimH, getS, del, recycle, compact, a burst that
// shrinks) beside a plain map and checks after each step that every name
// maps to its own value and the index holds exactly the entries.
func TestTableAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tb table[int]
	ref := map[string]int{} // live names → value
	check := func(step string) {
		t.Helper()
		if got := tb.len(); got != len(ref) {
			t.Fatalf("%s: %d live entries, want %d", step, got, len(ref))
		}
		for n, v := range ref {
			p, ok := tb.find(n)
			if !ok || *p != v {
				t.Fatalf("%s: find(%q) = %v, %v; want %d", step, n, p, ok, v)
			}
		}
		used := 0
		for _, s := range tb.slots {
			if s != 0 {
				used++
				if e := int32(uint32(s)) - 1; tb.index(tb.ents[e].name) != e {
					t.Fatalf("%s: slot for entry %d (%q) not found by its name", step, e, tb.ents[e].name)
				}
			}
		}
		if used != len(tb.ents) || used*4 > len(tb.slots)*3 {
			t.Fatalf("%s: %d slots used of %d for %d entries", step, used, len(tb.slots), len(tb.ents))
		}
	}
	name := func(n int) string { return fmt.Sprintf("app.m%d", r.IntN(n)) }
	for round := 0; round < 6; round++ {
		n := 300
		if round == 2 {
			n = 20_000 // a burst of names, dropped again by the next recycles
		}
		for i := 0; i < 5*n; i++ {
			k := name(n)
			switch r.IntN(10) {
			case 0:
				tb.del(k)
				delete(ref, k)
			case 1:
				*tb.getS(k) += 1
				ref[k]++
			default:
				*tb.getLimH([]byte(k), hashName([]byte(k)), nil, 0) += 2
				ref[k] += 2
			}
		}
		check(fmt.Sprintf("round %d", round))
		tb.recycle(func(v *int) { *v = 0 })
		for k := range ref {
			ref[k] = 0
		}
		for _, e := range tb.ents {
			if _, ok := ref[e.name]; !ok {
				t.Fatalf("round %d: recycle kept %q, which was not live", round, e.name)
			}
		}
		clear(ref) // all entries are kept but none is live
		check(fmt.Sprintf("round %d recycled", round))
	}
	if len(tb.ents) > 400 || len(tb.slots) > 1024 {
		t.Fatalf("after the burst: %d entries, %d slots", len(tb.ents), len(tb.slots))
	}
	// compact keeps live entries only.
	*tb.getS("x") = 7
	tb.compact()
	ref = map[string]int{"x": 7}
	check("compact")
	if len(tb.ents) != 1 {
		t.Fatalf("compact kept %d entries, want 1", len(tb.ents))
	}
}

// TestEqName: eqName (word-at-a-time, overlapping tail) agrees with == for
// every length up to 40, a difference at every byte, and unequal lengths.
func TestEqName(t *testing.T) {
	buf := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"
	for n := 0; n <= 40; n++ {
		a := buf[:n]
		if !eqName(a, strings.Clone(a)) {
			t.Fatalf("len %d: equal names differ", n)
		}
		if n > 0 && (eqName(a, a[:n-1]) || eqName(a[:n-1], a)) {
			t.Fatalf("len %d: a prefix is equal", n)
		}
		for i := 0; i < n; i++ {
			b := []byte(a)
			b[i] ^= 0x80
			if eqName(a, string(b)) {
				t.Fatalf("len %d: byte %d is not compared", n, i)
			}
		}
	}
}
