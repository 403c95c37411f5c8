package xraydaemon

import (
	"net"
	"syscall"
)

// setReadBuffer asks for n bytes of socket receive buffer and returns what
// the kernel granted. SetReadBuffer is capped by net.core.rmem_max; when
// running with CAP_NET_ADMIN, SO_RCVBUFFORCE goes past that cap.
func setReadBuffer(c *net.UDPConn, n int) (int, error) {
	if err := c.SetReadBuffer(n); err != nil {
		return 0, err
	}
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	got := 0
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		got, sockErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		// Linux reports twice the requested size (bookkeeping overhead).
		if sockErr == nil && got/2 < n {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) == nil {
				got, sockErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return got / 2, sockErr
}
