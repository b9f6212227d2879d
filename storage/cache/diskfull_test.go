package cache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
	"github.com/plumbago/plumbago/storage/storetest"
	"github.com/plumbago/plumbago/storage/whisper"
)

// TestDiskFullKeepsPointsAndResumes: a real whisper store on a 16 MiB tmpfs
// filled below its reserve refuses new series; the write buffer commits
// what the store took, keeps the rest (no retry limit: after more failed
// cycles than MaxWriteRetries nothing is dropped), keeps their WAL, says
// why in Health, and writes everything once the space is freed.
func TestDiskFullKeepsPointsAndResumes(t *testing.T) {
	vol := storetest.SmallVolume(t, 16<<20)
	schemas, err := schema.ParseSchemas(strings.NewReader("[all]\npattern = .*\nretentions = 10s:1h\n"))
	if err != nil {
		t.Fatal(err)
	}
	rules := &schema.Rules{Schemas: schemas, Aggregations: schema.Default().Aggregations}
	st, err := whisper.Open(whisper.Options{Dir: filepath.Join(vol, "whisper"), Index: index.New(), Rules: rules, MinFreeBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	<-st.ScanDone()
	wal := filepath.Join(t.TempDir(), "wal") // the log on another volume
	c, err := New(st, nil, Options{Shards: 2, FlushInterval: time.Hour, Step: step10, WALDir: wal,
		MaxWriteRetries: 2, RetryBackoff: time.Millisecond, MaxRetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Unix() - 120
	pr := c.NewProducer()
	pr.AddPoint([]byte("old.a"), ts, 1)
	pr.Flush()
	c.Sync()
	storetest.Fill(t, filepath.Join(vol, "filler"), 2<<20)
	for i := 0; i < 50; i++ {
		pr.AddPoint([]byte(fmt.Sprintf("new.s%02d", i)), ts, float64(i))
	}
	pr.AddPoint([]byte("old.a"), ts+10, 2)
	pr.Flush()
	for i := 0; i < 5; i++ { // more cycles than MaxWriteRetries
		c.Sync()
	}
	s := c.Stats()
	if s.Committed != 2 || s.Buffered != 50 || s.Waiting != 50 || s.WriteErrors != 0 || s.WriteRetries != 0 {
		t.Fatalf("while full: %+v; want committed 2 (old.a), buffered 50, waiting 50, no write errors or counted retries", s)
	}
	if err := c.Health(); !errors.Is(err, storage.ErrNoSpace) {
		t.Fatalf("Health while full = %v; want ErrNoSpace", err)
	}
	if n := walPoints(t, wal, "new.s07"); n != 1 {
		t.Fatalf("the write-ahead log holds %d points of a waiting series; want 1", n)
	}
	os.Remove(filepath.Join(vol, "filler"))
	c.Sync()
	s = c.Stats()
	if s.Committed != 52 || s.Buffered != 0 || s.Waiting != 0 || s.WriteErrors != 0 {
		t.Fatalf("after space returned: %+v; want committed 52, buffered 0, waiting 0", s)
	}
	if err := c.Health(); err != nil {
		t.Fatalf("Health after space returned = %v; want nil", err)
	}
	if n := storedValues(t, st, "new.s07", ts-10, ts+20); n != 1 {
		t.Fatalf("new.s07 has %d stored values; want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
