//go:build unix && !linux

package disttest

import "syscall"

// registryProcAttr puts the registry in a process group of its own.
func registryProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
