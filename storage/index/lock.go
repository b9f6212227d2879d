package index

import "sync"

// lockShards is the number of read-lock shards. Readers take one shard
// (picked from their key), writers take all, so concurrent readers on
// different cores do not contend on one RWMutex's reader count.
const lockShards = 8

type paddedRW struct {
	sync.RWMutex
	_ [128 - 24]byte // keep shards on separate cache lines (and prefetch pairs)
}

type shardedRW struct {
	s [lockShards]paddedRW
}

// pick spreads keys over the shards cheaply (no full hash).
func pick(key string) int {
	h := uint(len(key))
	if len(key) > 0 {
		h = h*31 + uint(key[len(key)-1])
		h = h*31 + uint(key[len(key)/2])
	}
	return int(h % lockShards)
}

// RLock read-locks the shard for key and returns it for RUnlock.
func (m *shardedRW) RLock(key string) int {
	i := pick(key)
	m.s[i].RLock()
	return i
}

func (m *shardedRW) RUnlock(i int) { m.s[i].RUnlock() }

// Lock write-locks every shard.
func (m *shardedRW) Lock() {
	for i := range m.s {
		m.s[i].Lock()
	}
}

func (m *shardedRW) Unlock() {
	for i := len(m.s) - 1; i >= 0; i-- {
		m.s[i].Unlock()
	}
}
