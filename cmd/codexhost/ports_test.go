package main

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// portAttempts bounds how many ports a test tries for a server it cannot
// hand a listener and that cannot report the port it bound (the OpenTelemetry
// Collector, Prometheus): the port is free when the test picks it, but
// another process (a parallel test, another package's test binary) may take
// it before the server binds it; the server then fails with "address already
// in use" and the test starts it again on another port.
const portAttempts = 5

// freeLoopbackAddr returns 127.0.0.1:PORT with a port that was free a moment
// ago. What gets it must retry on another one when the bind fails
// (addrInUse).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// addrInUse reports whether a server's log says that it could not bind its
// port because something else had it (EADDRINUSE).
func addrInUse(log string) bool {
	return strings.Contains(log, "address already in use")
}

// refusingAddr returns 127.0.0.1:PORT where every connection is refused
// until the test ends, and that nothing else can listen on meanwhile: a
// socket is bound there, without SO_REUSEADDR, and never listens. (A
// listener closed after its port was read leaves the port to anyone: a
// server started meanwhile by another test would answer there.)
func refusingAddr(t *testing.T) string {
	t.Helper()
	// Under ForkLock, as the net package does where sockets cannot be
	// created close-on-exec: a child started meanwhile must not inherit it.
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	in4, ok := sa.(*syscall.SockaddrInet4)
	require.True(t, ok, "getsockname: %T", sa)
	return fmt.Sprintf("127.0.0.1:%d", in4.Port)
}

// The port refusingAddr holds refuses connections and cannot be listened on.
func TestRefusingAddr(t *testing.T) {
	t.Parallel()
	addr := refusingAddr(t)
	_, err := net.Dial("tcp", addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
	}
	require.ErrorIs(t, err, syscall.EADDRINUSE)
}
