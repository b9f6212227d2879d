package oracletest

import "testing"

func TestJSONEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		tol  float64
		want bool
	}{
		{`[{"target": "a", "datapoints": [[3, 10], [null, 20]]}]`, `[{"datapoints": [[3.0, 10], [null, 20]], "target": "a"}]`, 0, true},
		{`[1.0, 2.0]`, `[1.0, 2.0000001]`, 0, false},
		{`[1.0, 2.0]`, `[1.0, 2.0000001]`, 1e-6, true},
		{`[1.0, 2.0]`, `[1.0, 2.1]`, 1e-6, false},
		{`[1, 2]`, `[1, 2, 3]`, 0, false},
		{`{"a": 1}`, `{"b": 1}`, 0, false},
		{`{"a": "x"}`, `{"a": "x"}`, 0, true},
		{`[1]`, `not json`, 0, false},
	} {
		if got := JSONEqual([]byte(c.a), []byte(c.b), c.tol); got != c.want {
			t.Errorf("JSONEqual(%s, %s, %g) = %v, want %v", c.a, c.b, c.tol, got, c.want)
		}
	}
}
