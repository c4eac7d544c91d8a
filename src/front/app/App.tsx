/**
 * The dashboard: one KFL filter bar shared by every view (traffic list + entry detail, service
 * map, statistics, workers), all state in the URL so a link reproduces what you see.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { FieldsResponse } from '../../api/types.ts';
import { EntryDetail } from './components/EntryDetail.tsx';
import { HealthBadge, WorkersView } from './components/Workers.tsx';
import { KflBar } from './components/KflBar.tsx';
import { ServiceMap } from './components/ServiceMap.tsx';
import { StatsView } from './components/StatsView.tsx';
import { TrafficList } from './components/TrafficList.tsx';
import { api } from './lib/api.ts';
import { catalogue } from './lib/filters.ts';
import { useLoad } from './lib/hooks.ts';
import { appendClause } from './lib/kfl.ts';
import { LiveList } from './lib/live.ts';
import { formatUrlState, parseUrlState, type UrlState, type View } from './lib/url.ts';

const TABS: { view: View; label: string }[] = [
  { view: 'traffic', label: 'Traffic' },
  { view: 'map', label: 'Service map' },
  { view: 'stats', label: 'Statistics' },
  { view: 'workers', label: 'Workers' },
];

const EMPTY_FIELDS: FieldsResponse = { fields: [], macros: {} };

export function App() {
  const [url, setUrl] = useState<UrlState>(() => parseUrlState(location.search));
  const [draft, setDraft] = useState(url.q);

  // URL ← state (replaceState: typing and clicking do not flood the history).
  useEffect(() => {
    const next = location.pathname + formatUrlState(url);
    if (next !== location.pathname + location.search) history.replaceState(null, '', next);
  }, [url]);
  // state ← URL on back/forward.
  useEffect(() => {
    const onPop = (): void => {
      const s = parseUrlState(location.search);
      setUrl(s);
      setDraft(s.q);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const fields = useLoad((signal) => api.fields(signal), []);
  const cat = useMemo(() => catalogue((fields.data ?? EMPTY_FIELDS).fields), [fields.data]);

  const live = useMemo(
    () => new LiveList(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`),
    [],
  );
  useEffect(() => {
    live.start(url.q);
  }, [live, url.q]);
  useEffect(() => () => live.stop(), [live]);

  const apply = useCallback((q: string) => {
    setDraft(q);
    setUrl((u) => ({ ...u, q: q.trim(), entry: undefined }));
  }, []);
  /** Click-to-filter: `&& field == value` on what is in the bar, applied at once. */
  const addFilter = useCallback(
    (clause: string) => {
      apply(appendClause(draft, clause));
    },
    [apply, draft],
  );
  const setView = (view: View): void => setUrl((u) => ({ ...u, view }));

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◉
          </span>
          kubeshark
        </div>
        <nav className="tabs" role="tablist">
          {TABS.map((t) => (
            <button
              key={t.view}
              role="tab"
              aria-selected={url.view === t.view}
              className={url.view === t.view ? 'tab active' : 'tab'}
              data-view={t.view}
              onClick={() => setView(t.view)}
            >
              {t.label}
            </button>
          ))}
        </nav>
        <HealthBadge onClick={() => setView('workers')} />
      </header>
      <KflBar
        value={draft}
        applied={url.q}
        onChange={setDraft}
        onApply={apply}
        fields={(fields.data ?? EMPTY_FIELDS).fields}
        macros={(fields.data ?? EMPTY_FIELDS).macros}
      />
      <main className="main">
        {url.view === 'traffic' && (
          <div className="split">
            <TrafficList
              live={live}
              cat={cat}
              selected={url.entry}
              onSelect={(entry) => setUrl((u) => ({ ...u, entry }))}
              onFilter={addFilter}
            />
            {url.entry !== undefined && (
              <EntryDetail
                key={`${url.entry.node}/${url.entry.id}`}
                node={url.entry.node}
                id={url.entry.id}
                cat={cat}
                onFilter={addFilter}
                onClose={() => setUrl((u) => ({ ...u, entry: undefined }))}
              />
            )}
          </div>
        )}
        {url.view === 'map' && (
          <ServiceMap
            q={url.q}
            by={url.by}
            cat={cat}
            onBy={(by) => setUrl((u) => ({ ...u, by }))}
            onDrill={(clause) => {
              const q = appendClause(url.q, clause);
              setDraft(q);
              setUrl((u) => ({ ...u, q, view: 'traffic', entry: undefined }));
            }}
          />
        )}
        {url.view === 'stats' && (
          <StatsView
            q={url.q}
            bucket={url.bucket}
            cat={cat}
            onBucket={(bucket) => setUrl((u) => ({ ...u, bucket }))}
            onFilter={addFilter}
          />
        )}
        {url.view === 'workers' && <WorkersView />}
      </main>
    </div>
  );
}
