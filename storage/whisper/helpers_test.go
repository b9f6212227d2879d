package whisper

import (
	"math"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// pythonWhisper returns a python3 that can import whisper, or skips (fails
// under CI=true).
func pythonWhisper(t testing.TB) string {
	t.Helper()
	return testenv.Python(t, "apt python3-whisper", "whisper")
}

func mustRules(t testing.TB, schemas, aggs string) *schema.Rules {
	t.Helper()
	ss, err := schema.ParseSchemas(strings.NewReader(schemas))
	if err != nil {
		t.Fatal(err)
	}
	as, err := schema.ParseAggregations(strings.NewReader(aggs))
	if err != nil {
		t.Fatal(err)
	}
	return &schema.Rules{Schemas: ss, Aggregations: as}
}

// sameFloats compares exactly, NaN equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func openStore(t testing.TB, dir string, rules *schema.Rules, now *int64) (*Store, *index.Index) {
	t.Helper()
	idx := index.New()
	s, err := Open(Options{Dir: dir, Rules: rules, Index: idx, Now: func() int64 { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	<-s.ScanDone()
	t.Cleanup(func() { s.Close() })
	return s, idx
}
