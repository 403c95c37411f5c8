// Package pipeline holds the pure transformations applied to accepted
// telemetry before it is spooled: user-agent parsing, IP anonymisation and
// page inclusion/exclusion. Nothing here does I/O.
package pipeline

import (
	"strings"

	"github.com/mssola/useragent"
)

// Client is what Sightline derives from a User-Agent header. Clients lie in
// their own metadata (headless Chromium reports "Not:A-Brand"), so the
// server parses the header it received.
type Client struct {
	Browser        string
	BrowserVersion string
	OS             string
	OSVersion      string
	DeviceType     string // desktop, mobile, tablet, bot
}

// ParseUserAgent extracts browser, OS and device type from a User-Agent.
func ParseUserAgent(ua string) Client {
	if ua == "" {
		return Client{}
	}
	p := useragent.New(ua)
	name, version := p.Browser()
	if strings.Contains(ua, "HeadlessChrome") {
		name = "Headless Chrome"
	}
	if name == "" {
		name = "Other"
	}
	osInfo := p.OSInfo()
	c := Client{
		Browser:        name,
		BrowserVersion: version,
		OS:             normaliseOS(osInfo.Name),
		OSVersion:      osInfo.Version,
		DeviceType:     "desktop",
	}
	lower := strings.ToLower(ua)
	switch {
	case p.Bot():
		c.DeviceType = "bot"
	case strings.Contains(lower, "ipad") || strings.Contains(lower, "tablet") ||
		(strings.Contains(lower, "android") && !strings.Contains(lower, "mobile")):
		c.DeviceType = "tablet"
	case p.Mobile():
		c.DeviceType = "mobile"
	}
	return c
}

func normaliseOS(name string) string {
	switch {
	case name == "":
		return "Other"
	case strings.HasPrefix(name, "Windows"):
		return "Windows"
	case name == "Mac OS X" || name == "macOS":
		return "macOS"
	}
	return name
}
