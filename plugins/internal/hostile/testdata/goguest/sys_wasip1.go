//go:build wasip1

package main

import "os/exec"

// A Wasm guest has no processes or signals: these modes do nothing there.

func setsid(*exec.Cmd) {}

func ignoreSignals() {}

func raiseSEGV() {}
