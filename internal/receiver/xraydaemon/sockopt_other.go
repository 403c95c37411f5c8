//go:build !linux

package xraydaemon

import "net"

func setReadBuffer(c *net.UDPConn, n int) (int, error) {
	return n, c.SetReadBuffer(n)
}
