package storetest_test

import (
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/pebble"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
	"github.com/plumbago/plumbago/storage/whisper"
)

// The same suite, run against both backends.

func TestWhisper(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		s, err := whisper.Open(whisper.Options{Dir: t.TempDir(), Rules: rules, Index: index.New(), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPebble(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		opts := pebble.DefaultOptions()
		opts.Dir = t.TempDir()
		opts.Rules = rules
		opts.Now = now
		s, err := pebble.Open(opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
