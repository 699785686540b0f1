//go:build !linux

package process

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}
