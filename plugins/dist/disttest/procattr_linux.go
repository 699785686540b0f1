//go:build linux

package disttest

import "syscall"

// registryProcAttr puts the registry in a process group of its own, and
// has the kernel kill it with the test process (Pdeathsig): a test
// process that is killed does not leave its registry running, holding the
// port a later run wants.
func registryProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
