package chtest

import "syscall"

// dieWithParent makes a server or ZooKeeper started by a test die with the
// test binary (killed by -timeout, say) instead of outliving it.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
