//go:build unix && !linux

package bashtrace

import "syscall"

// procAttr puts the traced shell in a process group of its own. strace is
// Linux's, so Run fails with ErrNoStrace here; this only keeps the package
// building.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
