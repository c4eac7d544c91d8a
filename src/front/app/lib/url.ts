/**
 * The view lives in the URL (`?q=…&view=…`), so a link reproduces it. Updated with
 * `history.replaceState` (no history entry per keystroke); read once at start and on back/forward.
 */

export type View = 'traffic' | 'map' | 'stats' | 'workers';
export const VIEWS: readonly View[] = ['traffic', 'map', 'stats', 'workers'];
export type MapBy = 'pod' | 'service' | 'namespace' | 'node';
export const MAP_BY: readonly MapBy[] = ['service', 'pod', 'namespace', 'node'];

export interface UrlState {
  /** The applied KFL filter. */
  q: string;
  view: View;
  /** Service-map grouping. */
  by: MapBy;
  /** Stats bucket width in seconds; 0 = automatic. */
  bucket: number;
  /** Selected entry `node/id`, if any. */
  entry?: { node: string; id: number };
}

export function parseUrlState(search: string): UrlState {
  const p = new URLSearchParams(search);
  const view = p.get('view');
  const by = p.get('by');
  const bucket = Number(p.get('bucket') ?? '0');
  const entry = p.get('entry');
  let sel: UrlState['entry'];
  if (entry !== null) {
    const i = entry.lastIndexOf('/');
    const id = Number(entry.slice(i + 1));
    if (i > 0 && Number.isInteger(id)) sel = { node: entry.slice(0, i), id };
  }
  return {
    q: p.get('q') ?? '',
    view: VIEWS.includes(view as View) ? (view as View) : 'traffic',
    by: MAP_BY.includes(by as MapBy) ? (by as MapBy) : 'service',
    bucket: Number.isInteger(bucket) && bucket > 0 ? bucket : 0,
    entry: sel,
  };
}

/** The query string for a state: defaults left out, so the plain URL stays plain. */
export function formatUrlState(s: UrlState): string {
  const p = new URLSearchParams();
  if (s.q !== '') p.set('q', s.q);
  if (s.view !== 'traffic') p.set('view', s.view);
  if (s.by !== 'service') p.set('by', s.by);
  if (s.bucket > 0) p.set('bucket', String(s.bucket));
  if (s.entry !== undefined) p.set('entry', `${s.entry.node}/${s.entry.id}`);
  const str = p.toString();
  return str === '' ? '' : `?${str}`;
}
