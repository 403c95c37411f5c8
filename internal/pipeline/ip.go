package pipeline

import "net/netip"

// AnonymizeIP drops the last octet of an IPv4 address and the last 80 bits
// of an IPv6 address, as analytics tools commonly do, so a stored address no
// longer identifies one household. Unparseable input yields "".
func AnonymizeIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	bits := 24
	if addr.Is6() {
		bits = 48
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
