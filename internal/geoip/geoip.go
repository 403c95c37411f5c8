// Package geoip maps client IP addresses to ISO country codes with a
// MaxMind-format database (GeoLite2-Country, GeoIP2-Country or -City, or
// any MMDB with a country.iso_code field). None is shipped: operators
// point Sightline at their own file. Lookups must happen at ingest, before
// the client IP is anonymised.
package geoip

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an open country database, safe for concurrent lookups.
type DB struct {
	r *maxminddb.Reader
}

// Open memory-maps the database at path.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geoip database %q: %w", path, err)
	}
	return &DB{r: r}, nil
}

// Close releases the database.
func (d *DB) Close() error { return d.r.Close() }

type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	// RegisteredCountry answers for addresses (anycast, satellite) whose
	// country of use is unknown.
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country returns the ISO 3166-1 alpha-2 code of ip, or "" when ip is not
// an address (a port is allowed) or the database does not know it.
func (d *DB) Country(ip string) string {
	if d == nil {
		return ""
	}
	addr, ok := parseAddr(ip)
	if !ok {
		return ""
	}
	var rec record
	if err := d.r.Lookup(addr).Decode(&rec); err != nil {
		return ""
	}
	if rec.Country.ISOCode != "" {
		return rec.Country.ISOCode
	}
	return rec.RegisteredCountry.ISOCode
}

// parseAddr accepts "1.2.3.4", "::1", "[::1]:80", "1.2.3.4:80" and
// IPv4-mapped IPv6, the forms RemoteAddr and X-Forwarded-For carry.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
