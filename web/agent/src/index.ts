// ES module entry: `import { init } from '.../sightline.mjs'; const rum = init({...})`.
import { createAgent } from './agent';
import type { Agent } from './agent';
import type { Config } from './config';

export { VERSION } from './agent';
export type { Agent, PageView } from './agent';
export type { Config } from './config';

export function init(config: Partial<Config>): Agent {
  return createAgent(config);
}
