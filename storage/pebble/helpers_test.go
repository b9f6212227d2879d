package pebble

// The shared conformance suite runs for both backends in
// storage/storetest (backends_test.go).

import (
	"testing"

	"github.com/plumbago/plumbago/storage/schema"
)

func openTest(t *testing.T, rules *schema.Rules, now func() int64) *Store {
	t.Helper()
	opts := DefaultOptions()
	opts.Dir = t.TempDir()
	opts.Rules = rules
	opts.Now = now
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
