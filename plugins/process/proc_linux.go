//go:build linux

package process

import (
	"os/exec"
	"syscall"
)

// setProcAttr asks the kernel to kill the plugin if the host dies first, so
// a plugin never outlives a host killed with SIGKILL.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
