package pebble

import (
	"hash/maphash"
	"sync"
)

// decodedCache keeps recently read blocks decoded, so a render that reads
// the same blocks again (dashboards refresh the same panels) copies their
// values instead of reading and decoding them again. An entry is keyed by
// the block's data key and remembers the series object it was read for,
// that series' written count then (bumped after every commit that staged
// its blocks) and the encoded bytes: a read takes it without asking pebble
// while the series is the same object with the same count, and otherwise
// only if pebble returns exactly those bytes. A deleted, resized or
// re-created series is a new object, so its blocks are read again. A key
// pebble had no block under is cached as absent on the same terms.
// Memory is bounded (maxBytes in all); a full shard drops entries at
// random (Go's map order).
type decodedCache struct {
	seed   maphash.Seed
	shards [decodedShards]decodedShard
}

const decodedShards = 32

type decodedShard struct {
	// mu is read-locked by lookups, which are most of the traffic: under
	// 8 concurrent renders of 1,000 series a plain mutex made fetch
	// workers queue behind one another on a map lookup (the mutex profile's
	// first entry).
	mu       sync.RWMutex
	m        map[dataKey]*decodedBlock
	bytes    int64
	maxBytes int64
}

// decodedBlock is one cached block: its encoding and its slots, and the
// series (and its written count) it was read for. Entries are never
// changed once cached (a refreshed one is a new entry sharing enc and
// vals).
type decodedBlock struct {
	ser     *series
	written uint64
	enc     []byte
	present [blockSlots / 64]uint64
	lo, hi  int // present slots are in [lo, hi]
	vals    []float64
	absent  bool // pebble had no block under the key (no slot present)
}

// decodedCacheShare is the share of Options.CacheSize the decoded-block
// cache takes (pebble's block cache keeps the rest).
const decodedCacheShare = 4

// decodedCacheBytes is the decoded-block cache's bound for a CacheSize.
func decodedCacheBytes(cacheSize int64) int64 { return cacheSize / decodedCacheShare }

func newDecodedCache(maxBytes int64) *decodedCache {
	c := &decodedCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = map[dataKey]*decodedBlock{}
		c.shards[i].maxBytes = maxBytes / decodedShards
	}
	return c
}

func (c *decodedCache) shard(key *dataKey) *decodedShard {
	return &c.shards[maphash.Bytes(c.seed, key[:])%decodedShards]
}

func (b *decodedBlock) size() int64 { return int64(cap(b.enc) + 8*cap(b.vals) + 192) }

// get returns the cached block of key, if any.
func (c *decodedCache) get(key *dataKey) *decodedBlock {
	sh := c.shard(key)
	sh.mu.RLock()
	b := sh.m[*key]
	sh.mu.RUnlock()
	return b
}

// current reports whether b can answer a read of ser at written count
// written without reading the block: no commit staged blocks of ser since
// b was read (a commit bumps the count only after it is done, so b was
// read after every commit counted in written).
func (b *decodedBlock) current(ser *series, written uint64) bool {
	return b != nil && b.ser == ser && b.written == written
}

// refresh re-caches b (its bytes found unchanged) under ser's written
// count.
func (c *decodedCache) refresh(key *dataKey, b *decodedBlock, ser *series, written uint64) {
	nb := *b
	nb.ser, nb.written = ser, written
	c.store(key, &nb)
}

// put caches the decoded slots s of key, decoded from enc, read for ser
// at written count written (loaded before the block was read).
func (c *decodedCache) put(key *dataKey, enc []byte, s *slotBuf, ser *series, written uint64) {
	if s.empty() {
		return
	}
	b := &decodedBlock{ser: ser, written: written, enc: append([]byte(nil), enc...), lo: s.lo, hi: s.hi}
	b.present = s.present
	b.vals = append([]float64(nil), s.vals[s.lo:s.hi+1]...)
	c.store(key, b)
}

// putAbsent caches that key has no block, as read for ser at written
// count written: current (answered without pebble, nothing present) until
// ser's next commit.
func (c *decodedCache) putAbsent(key *dataKey, ser *series, written uint64) {
	c.store(key, &decodedBlock{ser: ser, written: written, absent: true})
}

func (c *decodedCache) store(key *dataKey, b *decodedBlock) {
	size := b.size()
	sh := c.shard(key)
	if size > sh.maxBytes {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old := sh.m[*key]; old != nil {
		sh.bytes -= old.size()
	}
	for k, v := range sh.m {
		if sh.bytes+size <= sh.maxBytes {
			break
		}
		if k != *key {
			sh.bytes -= v.size()
			delete(sh.m, k)
		}
	}
	sh.m[*key] = b
	sh.bytes += size
}
