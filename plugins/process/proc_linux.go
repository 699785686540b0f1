//go:build linux

package process

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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

// killTree kills (SIGKILL) the descendants of pid, found through /proc by
// their parent pid: those that left its process group (setsid) too. It
// stops them first (SIGSTOP), pass after pass until no new one appears, so
// that none can fork a child it would miss. A descendant whose parent
// exited before (a double-forked daemon) is the child of init, or of a
// subreaper, and is not found.
func killTree(pid int) {
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	seen := map[int]bool{}
	for range 8 {
		found := false
		for _, d := range descendants(pid) {
			if !seen[d] {
				seen[d], found = true, true
				_ = syscall.Kill(d, syscall.SIGSTOP)
			}
		}
		if !found {
			break
		}
	}
	for d := range seen {
		_ = syscall.Kill(d, syscall.SIGKILL)
	}
}

// descendants returns the pids of the processes below pid in the process
// tree, read from /proc.
func descendants(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := parentPid(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// parentPid reads the parent pid of pid from /proc/pid/stat, or 0.
func parentPid(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0
	}
	pp, _ := strconv.Atoi(string(f[1]))
	return pp
}

// holdDescendants takes hold of the processes below pid now (pidfds) and
// returns a function that kills (SIGKILL) those of them still alive. A
// plugin asked to exit may leave a child in a session of its own (setsid)
// behind, which killGroup misses and which, once the plugin has exited,
// is init's: it is killed through the hold. A pidfd names its process,
// not its pid, so a pid reused meanwhile is never hit.
func holdDescendants(pid int) func() {
	if pid <= 0 {
		return func() {}
	}
	held := map[int]int{} // pid -> pidfd
	for _, d := range descendants(pid) {
		if fd, err := unix.PidfdOpen(d, 0); err == nil {
			held[d] = fd
		}
	}
	// A pid that died and was reused between the listing and the open is
	// no longer below pid: drop it.
	below := map[int]bool{}
	for _, d := range descendants(pid) {
		below[d] = true
	}
	for d, fd := range held {
		if !below[d] {
			_ = unix.Close(fd)
			delete(held, d)
		}
	}
	return func() {
		for _, fd := range held {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			_ = unix.Close(fd)
		}
	}
}

// maxInheritable returns the highest file descriptor of the host, 3 or
// more, that is not close-on-exec, or 0 if there is none. Go opens its own
// files close-on-exec; one without the flag was inherited from the host's
// parent (a shell's `3<file`, a leaky IDE), and os/exec would pass it on to
// the plugin. Nil entries of exec.Cmd.ExtraFiles up to it have the child
// close those descriptors.
func maxInheritable() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	top := 0
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 || fd <= top {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			top = fd
		}
	}
	return top
}
