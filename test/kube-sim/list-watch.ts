/**
 * LIST and WATCH of a collection in the simulated API server: pagination, JSON-lines watch events
 * (with 410 Expired for a resourceVersion older than the history, and bookmarks) and the Table
 * rendering kubectl asks for.
 */
import type { ServerResponse } from 'node:http';
import { apiVersionOf } from './resources.ts';
import type { KObj, StoredEvent } from './store.ts';
import type { Matcher } from './selectors.ts';
import { SelectorError, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ResourceCall, Route, SimState } from './http.ts';
import { badRequest, sendJson, statusBody } from './http.ts';

/** Watches without timeoutSeconds end after this long (the real server picks 30–60 min). */
export const DEFAULT_WATCH_TIMEOUT_S = 1800;

/** A GET of a collection: its route, query and selectors, and how objects are rendered. */
interface CollectionRead {
  r: Route;
  q: URLSearchParams;
  match: (o: KObj) => boolean;
  /** The Accept header asks for a Table (kubectl get); rows carry objects as includeObject says. */
  asTable: boolean;
  includeObject: string;
}

export function isWatch(q: URLSearchParams): boolean {
  return q.get('watch') === '1' || q.get('watch') === 'true';
}

function age(ts: unknown): string {
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const TABLE_COLUMNS = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 },
  { name: 'Status', type: 'string', format: '', description: 'Phase of the object', priority: 0 },
  { name: 'Age', type: 'string', format: '', description: 'Time since creation', priority: 0 },
];

function tableRow(o: KObj, includeObject: string): Record<string, unknown> {
  const status = (o.status ?? {}) as { phase?: string };
  const object =
    includeObject === 'Object'
      ? o
      : includeObject === 'None'
        ? undefined
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return {
    cells: [o.metadata.name, status.phase ?? '', age(o.metadata.creationTimestamp)],
    ...(object ? { object } : {}),
  };
}

function table(objs: KObj[], rv: string, includeObject: string): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: rv },
    columnDefinitions: TABLE_COLUMNS,
    rows: objs.map((o) => tableRow(o, includeObject)),
  };
}

/** labelSelector and fieldSelector of a collection request as one matcher (malformed: 400). */
export function selectorsOf(q: URLSearchParams): Matcher {
  try {
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'));
    return (o) => labels(o) && fields(o);
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

/**
 * GET of a collection: a watch with `watch=1|true`, else a list; labelSelector and fieldSelector
 * apply to both (a malformed selector is 400).
 */
export function serveCollection(st: SimState, { req, res, r, q }: ResourceCall): void {
  const c: CollectionRead = {
    r,
    q,
    match: selectorsOf(q),
    asTable: (req.headers.accept ?? '').includes('as=Table'),
    includeObject: q.get('includeObject') ?? 'Metadata',
  };
  return isWatch(q) ? watch(st, res, c) : list(st, res, c);
}

function list(st: SimState, res: ServerResponse, c: CollectionRead): void {
  const { r, q, match } = c;
  const limit = Number(q.get('limit') ?? 0);
  const cont = q.get('continue');
  const paged = !!cont || limit > 0;
  // The stored objects, read-only; only what is sent is copied.
  let items = st.store.list(r.res, r.ns, false, !paged).filter(match);
  let rv = String(st.store.resourceVersion);
  // Pagination (limit/continue): pages in key order; the token carries the first page's
  // resourceVersion and the last key sent. Simplified: later pages read the current state,
  // not a snapshot at that resourceVersion.
  let next: string | undefined;
  let remaining = 0;
  if (paged) {
    let keyed = items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o] as const);
    keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (cont) {
      let tok: { rv: string; after: string };
      try {
        tok = JSON.parse(Buffer.from(cont, 'base64url').toString()) as typeof tok;
      } catch {
        throw badRequest('continue key is not valid');
      }
      rv = tok.rv;
      keyed = keyed.filter(([k]) => k > tok.after);
    }
    if (limit > 0 && keyed.length > limit) {
      remaining = keyed.length - limit;
      keyed = keyed.slice(0, limit);
      const after = keyed[keyed.length - 1]![0];
      next = Buffer.from(JSON.stringify({ rv, after })).toString('base64url');
    }
    items = keyed.map(([, o]) => o);
  }
  items = items.map((o) => structuredClone(o));
  if (c.asTable) return sendJson(res, 200, table(items, rv, c.includeObject));
  sendJson(res, 200, {
    kind: `${r.res.kind}List`,
    apiVersion: apiVersionOf(r.res),
    metadata: {
      resourceVersion: rv,
      ...(next ? { continue: next, remainingItemCount: remaining } : {}),
    },
    items,
  });
}

/**
 * Watch: streams JSON lines. Resuming at resourceVersion N replays retained events after N; N
 * older than the retained history yields one ERROR event carrying a 410 Expired Status. Without
 * resourceVersion (or "0") the current objects are sent as ADDED first.
 */
function watch(st: SimState, res: ServerResponse, c: CollectionRead): void {
  const { r, q, match, asTable, includeObject } = c;
  const rvParam = q.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) {
    throw badRequest(`invalid resource version: ${rvParam}`);
  }
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  const write = (type: string, object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const send = (type: string, o: KObj): void => {
    write(type, asTable ? table([o], o.metadata.resourceVersion ?? '', includeObject) : o);
  };
  const inScope = (ev: StoredEvent): boolean =>
    ev.res === r.res &&
    (r.ns === undefined || !r.res.namespaced || ev.object.metadata.namespace === r.ns) &&
    (r.name === undefined || ev.object.metadata.name === r.name) &&
    match(ev.object);
  let since: number;
  if (rvParam === '' || rvParam === '0') {
    for (const o of st.store.list(r.res, r.ns)) if (match(o)) send('ADDED', o);
    since = st.store.resourceVersion;
  } else {
    since = Number(rvParam);
    if (since < st.store.oldestResumable) {
      write(
        'ERROR',
        statusBody({
          code: 410,
          reason: 'Expired',
          message: `too old resource version: ${since} (${st.store.oldestResumable + 1})`,
        }),
      );
      res.end();
      return;
    }
    for (const ev of st.store.eventsSince(since)) if (inScope(ev)) send(ev.type, ev.object);
  }
  st.openWatches.add(res);
  const unsubscribe = st.store.subscribe((ev) => {
    if (ev.rv > since && inScope(ev)) send(ev.type, ev.object);
  });
  const bookmarks =
    q.get('allowWatchBookmarks') === 'true'
      ? setInterval(() => {
          write('BOOKMARK', {
            kind: r.res.kind,
            apiVersion: apiVersionOf(r.res),
            metadata: { resourceVersion: String(st.store.resourceVersion) },
          });
        }, st.bookmarkIntervalMs)
      : undefined;
  const timeoutS = Number(q.get('timeoutSeconds') ?? DEFAULT_WATCH_TIMEOUT_S);
  const timer = setTimeout(() => res.end(), timeoutS * 1000);
  const cleanup = (): void => {
    unsubscribe();
    clearInterval(bookmarks);
    clearTimeout(timer);
    st.openWatches.delete(res);
  };
  res.on('close', cleanup);
  res.on('finish', cleanup);
}
