package whisper

import (
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, rules *schema.Rules, now func() int64) storage.Store {
		s, err := Open(Options{Dir: t.TempDir(), Rules: rules, Index: index.New(), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		<-s.ScanDone()
		return s
	})
}
