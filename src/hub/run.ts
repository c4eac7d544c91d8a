/** `kubeshark hub` (hidden): the cluster-wide API over a list of workers until SIGINT/SIGTERM. */
import type { ConfigTree } from '../config/load.ts';
import { KsError } from '../util/errors.ts';
import { createHub, type HubWorkerSpec } from './hub.ts';

export interface RunHubOptions {
  /** Worker API URLs (`http://host:port`), optionally named `name=URL`. */
  workers: string[];
  port: number;
  host?: string;
  config: ConfigTree;
  out: (line: string) => void;
  until: Promise<unknown>;
}

/** `name=http://…` or `http://…` (named after its host:port). */
export function parseWorkerSpec(s: string): HubWorkerSpec {
  const m = /^([^=]+)=(.+)$/.exec(s);
  const raw = m ? m[2]! : s;
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new KsError('KS_ERR_USAGE', `not a worker URL: ${s}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new KsError('KS_ERR_USAGE', `worker URL must be http(s): ${s}`);
  }
  return { name: m ? m[1]! : url.host, url: url.origin };
}

export async function runHub(o: RunHubOptions): Promise<void> {
  const hub = createHub({ workers: o.workers.map(parseWorkerSpec), config: o.config });
  try {
    const port = await hub.listen(o.port, o.host);
    const where = `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${port}`;
    o.out(`kubeshark hub: listening on ${where} (${o.workers.length} worker(s))`);
    await o.until;
  } finally {
    await hub.close();
  }
}
