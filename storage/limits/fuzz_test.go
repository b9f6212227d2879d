package limits

import (
	"strings"
	"testing"
)

func FuzzParseQuotas(f *testing.F) {
	f.Add(goCarbonExample)
	f.Add("[a.{b,c}*.d]\nmetrics = 1,000\nthroughput = max\ndropping-policy = none\n")
	f.Add("[/]\nmetrics = 0\n")
	f.Add("[a.[bc]?]\nlogical-size = 5\n")
	f.Add("[{a,b}{c,d}]\n")
	f.Fuzz(func(t *testing.T, in string) {
		rules, _, err := ParseQuotas(strings.NewReader(in))
		if err != nil {
			return
		}
		l := New(Config{Rules: rules, SizeOf: func(string) Size { return Size{1, 1, 1} }})
		for _, name := range []string{"a.b.c.d", "a.bx.d.e", "x", "a;t=1", "a.b;t=c.d"} {
			l.AdmitNew(name, false)
			l.Bind(name).Take(1)
		}
	})
}
