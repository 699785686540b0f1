package bashtrace

import "syscall"

// procAttr puts the traced shell in a process group of its own (the group
// is killed at its end) and kills it if the test process dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
