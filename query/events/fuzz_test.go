package events

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParseTagInput(f *testing.F) {
	for _, s := range []string{"", "a b", "a,b  x", `é "q r" s`, `x,y "q`, `"a,b" c`, `"unclosed, comma`, "\u00a0a\u00a0 b\x1c", `""""`, ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := ParseTagInput(in)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("ParseTagInput(%q) = %q: not sorted unique", in, got)
		}
		for _, w := range got {
			if w == "" || strings.TrimFunc(w, isPySpace) != w || strings.Contains(w, `"`) {
				t.Fatalf("ParseTagInput(%q) has word %q", in, w)
			}
		}
	})
}
