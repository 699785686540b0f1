package hostile

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitDead waits at most d for process pid to exit (a zombie counts),
// through a pidfd: no polling.
func waitDead(t *testing.T, pid int, d time.Duration) bool {
	const sysPidfdOpen = 434 // the same on amd64 and arm64
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno == syscall.ESRCH {
		return true
	}
	require.Zero(t, errno, "pidfd_open")
	defer syscall.Close(int(fd))
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	require.NoError(t, err)
	defer syscall.Close(ep)
	require.NoError(t, syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, int(fd), &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}))
	events := make([]syscall.EpollEvent, 1)
	deadline := time.Now().Add(d)
	for {
		n, err := syscall.EpollWait(ep, events, int(time.Until(deadline).Milliseconds()))
		if err == syscall.EINTR {
			continue
		}
		require.NoError(t, err)
		return n > 0
	}
}
