// Install snippets for a page's <head>: Sightline's own agent (pinned by its SRI hash) and the
// unmodified aws-rum-web client pointed at Sightline (signing off, endpoint set).

export interface SnippetInput {
  appMonitorId: string;
  ingestURL: string; // the collector's base URL as browsers reach it
  agentIntegrity?: string; // sha384-... of the agent bundle
  agentPath?: string;
  appVersion?: string;
  sessionSampleRate?: number;
  telemetries?: string[];
  enableXRay?: boolean;
  allowCookies?: boolean;
  traceHeaderAllowList?: string[];
}

export const AGENT_PATH = '/agent/v1/sightline.js';
// aws-rum-web's CDN loader version the snippet names; users may pin another 3.x.
export const RUM_WEB_VERSION = '3.2.1';

/** Base URL without a trailing slash; a wildcard bind address becomes the page's own host. */
export function collectorBase(ingestURL: string, pageHost?: string): string {
  let u = ingestURL.trim().replace(/\/+$/, '');
  if (!/^https?:\/\//.test(u)) u = 'http://' + u;
  if (pageHost) u = u.replace(/^(https?:\/\/)(0\.0\.0\.0|\[::\]|)(?=[:/]|$)/, `$1${pageHost}`);
  return u;
}

// JSON in a <script> must not contain "</script>" or U+2028/9.
function scriptJSON(v: unknown): string {
  return JSON.stringify(v, null, 2)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function sightlineSnippet(i: SnippetInput): string {
  const base = collectorBase(i.ingestURL);
  const cfg = { appMonitorId: i.appMonitorId, endpoint: base, appVersion: i.appVersion || '0.0.0' };
  const src = base + (i.agentPath || AGENT_PATH);
  const integrity = i.agentIntegrity ? ` integrity="${attr(i.agentIntegrity)}"` : '';
  return (
    `<script>window.Sightline=window.Sightline||function(){(Sightline.q=Sightline.q||[]).push(arguments)};` +
    `Sightline.c=${JSON.stringify(cfg).replace(/</g, '\\u003c')};</script>\n` +
    `<script async src="${attr(src)}"${integrity} crossorigin="anonymous"></script>`
  );
}

/** aws-rum-web as an npm module (the loader script works the same with the same config). */
export function rumWebSnippet(i: SnippetInput): string {
  const base = collectorBase(i.ingestURL);
  const tele: unknown[] = [];
  for (const t of i.telemetries ?? ['errors', 'performance', 'http']) {
    if (t === 'http') {
      const allow = i.traceHeaderAllowList?.length ? `[${i.traceHeaderAllowList.map((r) => `new RegExp(${JSON.stringify(r)})`).join(', ')}]` : 'true';
      tele.push(`['http', { addXRayTraceIdHeader: ${i.enableXRay ? allow : 'false'}, recordAllRequests: true }]`);
    } else tele.push(JSON.stringify(t));
  }
  const config = scriptJSON({
    sessionSampleRate: i.sessionSampleRate ?? 1,
    endpoint: base,
    signing: false,
    allowCookies: !!i.allowCookies,
    enableXRay: !!i.enableXRay,
  }).replace(/\n}$/, `,\n  "telemetries": [${tele.join(', ')}]\n}`);
  return (
    `// npm install aws-rum-web@${RUM_WEB_VERSION}\n` +
    `import { AwsRum } from 'aws-rum-web';\n\n` +
    `const rum = new AwsRum(${JSON.stringify(i.appMonitorId)}, ${JSON.stringify(i.appVersion || '1.0.0')}, 'us-east-1', ${config});`
  );
}
