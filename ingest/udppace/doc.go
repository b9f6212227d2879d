// Package udppace paces a UDP reader that blocks in recvmmsg(2) so that one
// wake-up finds a batch of datagrams rather than one.
//
// A blocking reader with MSG_WAITFORONE returns as soon as one datagram is
// queued; at tens of thousands of datagrams per second it wakes for almost
// every one, and each wake-up (the scheduler's switch, the system call's
// entry and exit, the Go runtime's hand-off of its P) costs about as much
// as reading the datagram. A Pacer, told after each read how many
// datagrams it returned, answers how long to sleep before the next blocking
// read: long enough for about three quarters of a batch to queue at the
// rate measured so far, never longer than MaxWait, never longer than a
// quarter of the time the socket's receive buffer takes to fill at that
// rate (so a late wake-up on a loaded box still has room to spare), and not
// at all after a batch of a quarter of the slots or more (the wake-up is
// shared already; near saturation a sleep would only lose reading time) or
// when the rate is too low for sleeping to gather more than a couple of
// datagrams. The reader then
// blocks as before, so an idle socket costs nothing.
package udppace
