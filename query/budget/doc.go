// Package budget is the per-process query memory budget: a byte count that
// concurrent queries reserve before they allocate, with a FIFO queue where
// a query waits a bounded time for others to release, and is refused
// (ErrExhausted, HTTP 503) when the wait runs out. A reservation larger
// than the whole budget is refused at once (ErrTooLarge).
package budget
