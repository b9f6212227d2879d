// Package accept runs TCP accept loops that survive descriptor exhaustion.
//
// A Listener wraps a *net.TCPListener. When accept fails because the
// process or the system is out of descriptors (EMFILE, ENFILE) or the kernel
// is out of memory (ENOBUFS, ENOMEM), it counts the failure by reason, logs
// it at most once per LogEvery, backs off (5 ms doubling to 1 s) and tries
// again, so the listener resumes by itself once descriptors are free. The
// failure shows in Failing until an accept succeeds again.
//
// A Limit caps the open connections of one or more listeners: a connection
// accepted over the limit is closed at once and counted as rejected, so
// established connections keep flowing while new ones are refused.
//
// With Config.Reserve the listener keeps one spare descriptor open. When
// accept fails with EMFILE it closes the spare, accepts one connection in
// its place and hands it on, so a health check can still be answered while
// the process is out of descriptors; the spare is taken again once a
// descriptor is free.
package accept
