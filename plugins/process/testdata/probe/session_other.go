//go:build !unix

package main

import "syscall"

// newSession is nil where there are no sessions (the guest builds for Wasm
// too, where starting a process fails anyway).
func newSession() *syscall.SysProcAttr { return nil }
