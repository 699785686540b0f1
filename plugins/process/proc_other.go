//go:build !linux

package process

import "os/exec"

// setProcAttr does nothing: outside Linux a plugin is neither in a process
// group of its own nor killed with its host (no Pdeathsig); Close and the
// runtime's kills reach the plugin process only, not children it started.
func setProcAttr(*exec.Cmd) {}

// killGroup does nothing: the plugin shares the host's process group.
func killGroup(int) {}

// waitExited returns false: it is not supported, and Wait reaps at once.
func waitExited(int) bool { return false }

// killTree does nothing: only Linux finds a process's descendants.
func killTree(int) {}

// holdDescendants does nothing: only Linux finds a process's descendants.
func holdDescendants(int) func() { return func() {} }

// maxInheritable returns 0: descriptors the host inherited without
// close-on-exec are passed on to the plugin outside Linux.
func maxInheritable() int { return 0 }
