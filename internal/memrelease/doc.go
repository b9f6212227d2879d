// Package memrelease gives the memory of a spike back to the operating
// system once the spike is over.
//
// Go's garbage collector runs when the heap reaches its goal (twice what
// the previous cycle found live, GOGC=100), and the scavenger returns to the
// kernel only what lies above that goal. After a spike (a statsd timer
// flood, concurrent large renders, a burst of points) the last cycle ran
// while the spike's data was still live, so the goal stays at the spike's
// size; when traffic is light afterwards no cycle runs for up to the
// runtime's forced period (2 minutes) and the resident set stays at the
// spike's size meanwhile; and when a cycle does run, the background
// scavenger returns the freed pages only slowly. A Releaser watches
// runtime/metrics and, when no cycle ran for a check interval while the
// heap holds much more than the last cycle found live, or when free pages
// not yet returned exceed half the live heap (at least Floor), or when no
// cycle ran for three checks in a row while the heap holds much more than
// the last forced release found live (a spike from the server's first
// seconds, before any check saw the heap it needs at rest), runs
// debug.FreeOSMemory (a collection, then every free page returned). Forced releases are rate-limited, so a busy server
// with a large live heap pays at most one extra collection per MinGap.
package memrelease
