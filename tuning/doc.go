// Package tuning derives Plumbago's runtime sizes from the machine it runs on
// and the configuration: event loops, storage shards, queue sizes, the write
// buffer's memory budget, GOMEMLIMIT, socket buffer sizes and pebble's cache
// and memtable sizes.
//
// Detect reads the machine (cgroup-quota-aware CPU count, cgroup memory
// limit, /proc/meminfo). Derive is a pure function from a Machine and
// Overrides to a Plan; serve and `plumbago tune` both call it, so what tune
// prints is what serve uses. Every derived value can be overridden, and each
// choice carries a one-line reason.
//
// CheckKernel inspects the kernel settings that matter for an ingest server
// (socket buffers, accept backlog, file limits, dirty page writeback, the
// data volume's filesystem and free space) and produces the sysctl and ulimit
// lines to apply. Main implements `plumbago tune`.
package tuning
