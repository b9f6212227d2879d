package schema

import (
	"strings"
	"testing"
)

func FuzzParseRetentions(f *testing.F) {
	for _, s := range []string{"10s:6h,1m:7d,10m:5y", "60:1440", " 1m:1d , 5m:7d ", "1min:1hour", "7s:1m", "", "1:4294967295", "0:1", "1w:1y,", "1:2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRetentions(s)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.SecondsPerPoint <= 0 || r.Points <= 0 || r.MaxRetention() > 1<<32-1 {
				t.Fatalf("ParseRetentions(%q) accepted %v", s, r)
			}
			back, err := ParseRetention(r.String())
			if err != nil || back != r {
				t.Fatalf("round trip of %v: %v %v", r, back, err)
			}
		}
		if ValidateRetentions(rs) == nil && FileSize(rs) > 1<<32-1 {
			t.Fatalf("valid retentions %v exceed 4 GiB", rs)
		}
	})
}

func FuzzParseSchemas(f *testing.F) {
	f.Add(carbonExample)
	f.Add(DefaultSchemasConf)
	f.Add("[a]\npattern = (?<=x)\nretentions = 1:1\n")
	f.Add("[DEFAULT]\nretentions = 60:10\n[a]\npattern = a{,2}\\Z\n")
	f.Add("[a]\n  cont\npattern=%%\nretentions=1:1\n")
	f.Fuzz(func(t *testing.T, s string) {
		ss, err := ParseSchemas(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, sc := range ss {
			if sc.Pattern == nil || ValidateRetentions(sc.Retentions) != nil {
				t.Fatalf("accepted invalid schema %+v", sc)
			}
			for i := 1; i < len(sc.Retentions); i++ {
				if sc.Retentions[i].SecondsPerPoint <= sc.Retentions[i-1].SecondsPerPoint {
					t.Fatalf("retentions not sorted: %v", sc.Retentions)
				}
			}
		}
		r := &Rules{Schemas: ss}
		_, _, _ = r.Match("a.b.c")
	})
}

func FuzzParseAggregations(f *testing.F) {
	f.Add(DefaultAggregationConf)
	f.Add("[a]\npattern = x\nxFilesFactor = 1e-3\naggregationMethod = avg_zero\n")
	f.Add("[a]\npattern = x\nxFilesFactor = -0\n")
	f.Add("[a]\npattern = (?P<x>a)(?P=x)\n")
	f.Fuzz(func(t *testing.T, s string) {
		as, err := ParseAggregations(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, a := range as {
			if a.Pattern == nil || !a.Method.Valid() || !(a.XFilesFactor >= 0 && a.XFilesFactor <= 1) {
				t.Fatalf("accepted invalid aggregation %+v", a)
			}
		}
	})
}
