// Package gcpace caps the garbage collector's headroom over a large live
// heap.
//
// With GOGC=100 the Go runtime lets the heap grow to twice what the last
// cycle found live before it collects, and its scavenger returns to the
// kernel only what lies above that goal. A server holding hundreds of MB of
// live state (a burst of a million new series: the write buffer's series,
// pebble's name table, the index) therefore keeps up to as much again of
// garbage resident. A Pacer, started once, runs after every completed
// cycle and sets the runtime's soft memory limit (debug.SetMemoryLimit) to
// what the cycle found live, plus a headroom of a quarter of it (at least
// Floor), plus the runtime's memory outside the heap (stacks, metadata),
// never above the limit configured when it started. Below Floor of live
// heap GOGC's own goal (twice the live heap) is the lower one and nothing
// changes; from Floor to 4 × Floor the headroom is Floor, and above that the
// heap's goal and resident size grow by a quarter of the live heap instead
// of all of it, at the price of more frequent cycles (the runtime caps the
// collector's share of CPU under a memory limit at half). While the heap
// grows from Floor to 3 × GrowthFloor (a burst of new series) the headroom
// is GrowthFloor instead: the cycles of that climb are what a larger
// heap's quarter would pace them to, not Floor's many small ones, and the
// goal stays below what the heap at 410 MiB live reaches anyway.
package gcpace
