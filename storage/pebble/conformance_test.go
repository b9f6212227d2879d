package pebble

import (
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
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

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		return openTest(t, rules, now)
	})
}
