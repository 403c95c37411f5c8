// IIFE entry loaded by the install snippet: picks up the snippet's config (`Sightline.c`) and the
// commands queued before the script arrived (`Sightline.q`), then takes over `window.Sightline`.
import { Agent, createAgent } from './agent';

type Stub = ((...a: unknown[]) => void) & { q?: ArrayLike<unknown>[]; c?: object; agent?: Agent };

const w = self as unknown as { Sightline?: Stub };
const stub = w.Sightline;
if (stub?.c && !stub.agent) {
  const agent = createAgent(stub.c);
  const api: Stub = (name, ...args) => {
    const f = agent[name as keyof Agent] as (...a: unknown[]) => unknown;
    if (typeof f == 'function' && agent.hasOwnProperty(name as string)) f(...args);
  };
  api.agent = agent;
  w.Sightline = api;
  for (const a of stub.q || []) api(...Array.prototype.slice.call(a));
}
