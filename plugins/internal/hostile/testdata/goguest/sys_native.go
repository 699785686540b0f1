//go:build !wasip1

package main

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func setsid(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

func ignoreSignals() { signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP) }

func raiseSEGV() { _ = syscall.Kill(os.Getpid(), syscall.SIGSEGV) }
