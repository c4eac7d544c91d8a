/** `kubeshark hub` (hidden): the cluster-wide API over a list of workers until SIGINT/SIGTERM. */
import type { ConfigTree } from '../config/load.ts';
import { KsError } from '../util/errors.ts';
import { createHub, type HubWorkerSpec } from './hub.ts';

/**
 * Where workers come from besides the static list (`--discover`: the release's worker pods).
 * `start` gets a callback to call with the whole current set on every change.
 */
export interface WorkerSetSource {
  start(update: (workers: { name: string; url: string }[]) => void): void;
  stop(): Promise<void>;
}

export interface RunHubOptions {
  /** Worker API URLs (`http://host:port`), optionally named `name=URL`. */
  workers: string[];
  /** Discovered workers, added to and removed from the static ones live. */
  discovery?: WorkerSetSource;
  /** Problems (stderr). */
  log?: (line: string) => void;
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
  const fixed = o.workers.map(parseWorkerSpec);
  const hub = createHub({ workers: fixed, config: o.config });
  try {
    const port = await hub.listen(o.port, o.host);
    const where = `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${port}`;
    o.out(
      `kubeshark hub: listening on ${where} (${o.workers.length} worker(s)${o.discovery ? ', discovering workers' : ''})`,
    );
    o.discovery?.start((found) => {
      // Static workers stay; a discovered one with a static one's name is left out.
      const names = new Set(fixed.map((w) => w.name));
      const extra = found.filter((w) => !names.has(w.name));
      if (extra.length < found.length)
        o.log?.('hub: discovered workers named like static ones are ignored');
      hub.setWorkers([...fixed, ...extra]);
    });
    await o.until;
  } finally {
    await o.discovery?.stop();
    await hub.close();
  }
}
