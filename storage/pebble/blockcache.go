package pebble

import (
	"bytes"
	"hash/maphash"
	"sync"
)

// decodedCache keeps recently read blocks decoded, so a render that reads
// the same blocks again (dashboards refresh the same panels) copies their
// values instead of decoding them again. An entry is keyed by the block's
// data key and holds the encoded bytes it was decoded from: a read uses it
// only when pebble returns exactly those bytes, so a written, merged,
// deleted or re-created block is never answered from the cache and the
// writer needs no hook. Memory is bounded (maxBytes in all); a full shard
// drops entries at random (Go's map order).
type decodedCache struct {
	seed   maphash.Seed
	shards [decodedShards]decodedShard
}

const decodedShards = 32

type decodedShard struct {
	mu       sync.Mutex
	m        map[dataKey]*decodedBlock
	bytes    int64
	maxBytes int64
}

// decodedBlock is one cached block: its encoding and its slots.
type decodedBlock struct {
	enc     []byte
	present [blockSlots / 64]uint64
	lo, hi  int // present slots are in [lo, hi]
	vals    []float64
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

// get returns the cached block of key if it was decoded from enc.
func (c *decodedCache) get(key *dataKey, enc []byte) *decodedBlock {
	sh := c.shard(key)
	sh.mu.Lock()
	b := sh.m[*key]
	sh.mu.Unlock()
	if b == nil || !bytes.Equal(b.enc, enc) {
		return nil
	}
	return b
}

// put caches the decoded slots s of key, decoded from enc.
func (c *decodedCache) put(key *dataKey, enc []byte, s *slotBuf) {
	if s.empty() {
		return
	}
	b := &decodedBlock{enc: append([]byte(nil), enc...), lo: s.lo, hi: s.hi}
	b.present = s.present
	b.vals = append([]float64(nil), s.vals[s.lo:s.hi+1]...)
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
