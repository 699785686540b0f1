//go:build linux

package process

import (
	"errors"
	"os/exec"
	"syscall"
	"unsafe"
)

// setProcAttr puts the plugin in a process group of its own, so that it and
// the children it starts can be killed together, and asks the kernel to
// kill it if the host dies first, so that a plugin never outlives a host
// killed with SIGKILL (or dying of SIGTERM without a handler).
//
// Pdeathsig fires when the host *thread* that started the plugin exits,
// not only the process: Go never ends a thread except one a goroutine
// locked with runtime.LockOSThread and left locked, so a host must not
// call Load (or a Call that restarts the plugin) from such a goroutine.
// It reaches only the plugin itself, not the children it started.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the process group pid leads.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// waitExited waits for child pid to exit without reaping it (waitid with
// WNOWAIT), so that its pid is not reused meanwhile, and returns true.
func waitExited(pid int) bool {
	const (
		pPID    = 1
		wExited = 4
		wNoWait = 0x1000000
	)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), wExited|wNoWait, 0, 0)
		if !errors.Is(errno, syscall.EINTR) {
			return true
		}
	}
}
