// Coarse browser/OS/device facts for SessionMetadata. The server parses the User-Agent header
// properly (headless and privacy-reduced agents lie here anyway); these only need to be right
// for common browsers, in as few bytes as possible.

const NAMES: Record<string, string> = {
  Edg: 'Edge', OPR: 'Opera', FxiOS: 'Firefox', CriOS: 'Chrome', Version: 'Safari',
  iPhone: 'iOS', iPad: 'iOS', 'Mac OS X': 'Mac OS', CrOS: 'Chrome OS',
};

export function parseUA(ua: string): { browserName: string; browserVersion: string; osName: string; deviceType: string } {
  // Browsers append their own token after the ones they imitate (Edge: "Chrome/x Safari/y Edg/z"),
  // so the last match names the browser.
  const b = (ua.match(/(Edg|OPR|Firefox|FxiOS|CriOS|Chrome|Version)\/\d+/g) || ['Other/']).pop()!.split('/');
  // Android agents also say Linux, before Android.
  const os = (/Android/.exec(ua) || /Windows|iPhone|iPad|Mac OS X|CrOS|Linux/.exec(ua) || ['Other'])[0];
  return {
    browserName: NAMES[b[0]] || b[0],
    browserVersion: b[1],
    osName: NAMES[os] || os,
    deviceType: /iPad|Tablet|Android(?!.*Mobile)/.test(ua) ? 'tablet' : /Mobi|iPhone/.test(ua) ? 'mobile' : 'desktop',
  };
}
