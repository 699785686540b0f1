//go:build linux

package host

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts app-server in its own process group, so that stopping it
// also stops the helpers it spawns, and asks the kernel to SIGKILL it if the
// host dies first (so an app-server never outlives a crashed host).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, sig)
}
