// Package schedyield lets long CPU-bound loops give their P to goroutines
// that wait for one.
//
// Go preempts a running goroutine only after sysmon saw it run for 10 ms
// on one scheduling tick. A statsd UDP reader that went through the
// scheduler (a periodic Gosched, the return from recvmmsg with no idle P)
// waits in a run queue meanwhile, and while a statsd flush merges its
// tables or a storage/cache shard ingests and decodes points on both Ps,
// that wait lasted 10–35 ms in Go traces of the server at 200 k
// single-metric datagrams/s, while the socket's default buffer holds
// 1.3–2.6 ms of them (docs/bench-rounds.md, statsd, session 13).
//
// A Yielder, called from such a loop every few hundred items, yields
// (runtime.Gosched) when at least Every passed since its last yield and
// any goroutine is runnable without a P (the runtime metric
// /sched/goroutines/runnable). With nothing waiting it costs a clock read
// per call; it never allocates.
package schedyield
